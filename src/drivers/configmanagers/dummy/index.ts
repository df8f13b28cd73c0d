/** The dummy config manager (runtime §9.2): used when a node definition has no `config_management`. */
import type { ConfigManager, ConfigManagerDriver } from '../../config-manager.js';

const manager: ConfigManager = {
  createInfrastructure: async () => undefined,
  dropInfrastructure: async () => undefined,
  registerNode: async () => undefined,
  dropNode: async () => undefined,
  getNodeState: async () => 'ready',
  getNodeAttribute: async () => 'dummy attribute',
};

const driver: ConfigManagerDriver = {
  type: 'dummy',
  createManager: () => manager,
};

export default driver;
