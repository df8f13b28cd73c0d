/**
 * The compiler's output, Occopus's StaticDescription (formats §2), as plain JSON so every store
 * backend and every process can share it.
 */
import type { Mapping, ScalingSpec } from '../descriptors/types.js';

export interface AttributeMapping {
  attributes: [string, string];
  synch: boolean;
  [key: string]: unknown;
}

/** A compiled node entry: the user's entry plus what the compiler injects (formats §2.4). */
export interface NodeDescription {
  name: string;
  type: string;
  scaling?: ScalingSpec;
  filter?: Mapping;
  /** Infra variables deep-merged with the node's own (node wins). */
  variables: Mapping;
  create_timeout?: number;
  /** Attributes that override the node definition's contextualisation attributes (formats §5.5 step 4). */
  attributes?: Mapping;
  infra_id: string;
  infra_name: string;
  user_id: string;
  mappings: {
    /** dependee name → mappings of the edge where this node is the dependent */
    inbound: Record<string, AttributeMapping[]>;
    /** dependent name → mappings of the edge where this node is the dependee */
    outbound: Record<string, AttributeMapping[]>;
  };
}

/** A normalised dependency edge: `dependent` is built after `dependee`. */
export interface Edge {
  dependent: string;
  dependee: string;
  mappings: AttributeMapping[];
}

export interface StaticDescription {
  infra_id: string;
  name: string;
  user_id: string;
  nodes: NodeDescription[];
  edges: Edge[];
  /** Levels of node names; level 0 depends on nothing; inside a level, `nodes` order is kept. */
  topological_order: string[][];
  /** The un-merged infra-level variables. */
  variables: Mapping;
  suspended: boolean;
}
