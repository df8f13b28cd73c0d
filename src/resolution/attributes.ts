/**
 * Node attributes, their `connections` and the `synch_attrs` list (formats §5.8). Chef stores the
 * attributes on the node; the `connect` cookbook reads `connections`.
 */
import type { NodeDescription } from '../compiler/types.js';
import { isPlainObject } from './python-str.js';
import { renderLeaves, type TemplateContext } from './template-engine.js';

export interface Connection {
  source_role: string;
  source_attribute: string;
  destination_attribute: string;
}

/** One item per mapping of every inbound edge (this node is the dependent). */
export function buildConnections(node: NodeDescription): Connection[] {
  const inbound = node.mappings?.inbound ?? {};
  return Object.entries(inbound).flatMap(([dependee, mappings]) =>
    mappings.map((m) => ({
      source_role: `${node.infra_id}_${dependee}`,
      source_attribute: m.attributes[0],
      destination_attribute: m.attributes[1],
    })),
  );
}

/** The source attribute of every `synch: true` mapping of the outbound edges (this node is the dependee). */
export function synchAttributes(node: NodeDescription): string[] {
  const outbound = node.mappings?.outbound ?? {};
  return Object.values(outbound).flatMap((mappings) => mappings.filter((m) => m.synch).map((m) => m.attributes[0]));
}

/**
 * Renders every string leaf of `attributes` separately and sets `connections`.
 * @param source where the attributes came from, for error messages (`contextualisation.attributes`)
 */
export function resolveAttributes(
  attributes: unknown,
  node: NodeDescription,
  context: TemplateContext,
  source: string,
): Record<string, unknown> {
  // The node entry's own attributes override the definition's (Occopus read them but its schema refused them).
  const raw = { ...(isPlainObject(attributes) ? attributes : {}), ...(node.attributes ?? {}) };
  const rendered = renderLeaves(raw, context, source, (p) => `${p} of node '${node.name}'`) as Record<string, unknown>;
  rendered['connections'] = buildConnections(node);
  return rendered;
}
