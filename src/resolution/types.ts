/**
 * Inputs and output of node resolution (formats §5). Re-exported by `resolve.ts`, the public entry.
 */
import type { NodeDescription } from '../compiler/types.js';
import type {
  ConfigManagementSection,
  ContextualisationSection,
  HealthCheckSection,
  NodeDefinition,
  ResourceSection,
} from '../descriptors/types.js';

export interface InstanceAddresses {
  public: string[];
  private: string[];
}

export interface AddressLookup {
  /** Addresses of the instances of node `name` in this infrastructure, in creation order;
   *  with a falsy name, of all instances of all nodes (Occopus quirk §5.4, cqueue-cluster relies on it). */
  instancesOf(name: string | null | undefined): InstanceAddresses[];
}

export interface ResolveOptions {
  nodeId: string;
  node: NodeDescription;
  /** The selected implementation; treated as read-only. */
  definition: NodeDefinition;
  lookup: AddressLookup;
  /** `cmd()` runs a local command; only when the user's config allows it (default false). */
  allowCmd: boolean;
  /** Called with a human-readable message for things the user should know (cmd() used, several
   *  instances for getip, ...). */
  warn?: (message: string) => void;
}

/** Resolved node definition (formats §5.2; snake_case kept for Occopus compatibility). */
export interface ResolvedNode {
  resource: ResourceSection;
  contextualisation?: ContextualisationSection;
  config_management?: ConfigManagementSection;
  health_check?: HealthCheckSection;
  node_id: string;
  name: string;
  infra_id: string;
  infra_name: string;
  /** rendered user data (cloudinit only) */
  context?: string;
  attributes: Record<string, unknown>;
  synch_attrs: string[];
  create_timeout: number | null;
}
