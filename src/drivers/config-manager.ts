/**
 * The ConfigManager port (Occopus's config managers: dummy, chef, puppet_solo). The engine calls it
 * around the resource driver: environments per infrastructure, registration per node, and the
 * service state that gates readiness (runtime §1.3).
 */
import type { ConfigManagementSection } from '../descriptors/types.js';
import type { ResolvedNode } from '../resolution/resolve.js';
import type { ResourceState } from './resource-handler.js';

export interface ConfigManager {
  /** Idempotent: creating an existing environment succeeds. */
  createInfrastructure(infraId: string): Promise<void>;
  /** Idempotent. */
  dropInfrastructure(infraId: string): Promise<void>;
  registerNode(node: ResolvedNode): Promise<void>;
  /** Idempotent. */
  dropNode(node: { node_id: string; infra_id: string }): Promise<void>;
  /** Service state of a node whose resource is ready. */
  getNodeState(node: { node_id: string; infra_id: string }): Promise<ResourceState>;
  /** Value of an attribute on the node (for `synch` mappings), or null while it is not set. */
  getNodeAttribute(node: { node_id: string; infra_id: string }, attribute: string): Promise<unknown>;
}

export interface ConfigManagerDriver {
  type: string;
  createManager(section: ConfigManagementSection, auth: Record<string, unknown> | null): ConfigManager;
}
