/** The `nova` driver module, loaded lazily by the driver table. */
import type { ResourceDriver } from '../resource-handler.js';
import { createNovaHandler } from './handler.js';

export {
  createNovaHandler,
  NovaResourceHandler,
  generatedServerName,
  floatingIpDescription,
  NODE_ID_METADATA,
  INFRA_ID_METADATA,
  PERSISTED_METADATA,
  NOVA_USER_DATA_LIMIT,
} from './handler.js';
export type { NovaHandlerOptions } from './handler.js';
export { keystoneUrl } from './keystone.js';

const novaDriver: ResourceDriver = {
  type: 'nova',
  createHandler: (resource, context) => createNovaHandler(resource, context),
};

export default novaDriver;
