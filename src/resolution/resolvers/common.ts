/**
 * What every resolver shares: its input, the skeleton of the resolved node, and error wording.
 */
import type { NodeDescription } from '../../compiler/types.js';
import type { ContextualisationSection, NodeDefinition } from '../../descriptors/types.js';
import { synchAttributes } from '../attributes.js';
import type { TemplateHelpers } from '../helpers.js';
import type { ResolvedNode } from '../types.js';

export interface ResolverInput {
  nodeId: string;
  node: NodeDescription;
  /** A private deep copy of the selected implementation: the resolver may change it. */
  definition: NodeDefinition;
  helpers: TemplateHelpers;
}

/** `where` of a template error: "resource.server_name of node 'x'". */
export function fieldOfNode(field: string, node: NodeDescription): string {
  return `${field} of node '${node.name}'`;
}

/** The contextualisation section without the keys a resolver consumes. */
export function contextualisationWithout(
  section: ContextualisationSection | undefined,
  ...keys: string[]
): ContextualisationSection | undefined {
  if (!section) return undefined;
  const copy: ContextualisationSection = { ...section };
  for (const k of keys) delete copy[k];
  return copy;
}

/** The parts every resolver fills the same way (formats §5.1 steps 5–6, §5.2). */
export function resolvedSkeleton(
  input: ResolverInput,
  attributes: Record<string, unknown>,
): Omit<ResolvedNode, 'resource' | 'contextualisation' | 'config_management' | 'health_check' | 'context'> {
  const { node, nodeId, definition } = input;
  return {
    node_id: nodeId,
    name: node.name,
    infra_id: node.infra_id,
    infra_name: node.infra_name,
    attributes,
    synch_attrs: synchAttributes(node),
    create_timeout: node.create_timeout ?? definition.create_timeout ?? null,
  };
}
