/**
 * The compiler: a schema-checked infrastructure description → Occopus's StaticDescription
 * (formats §2), as plain JSON that shares nothing with the loaded document.
 */
import { randomUUID } from 'node:crypto';
import { CompileError } from '../errors.js';
import type { InfraDescription, InfraNodeEntry, Mapping } from '../descriptors/types.js';
import type { AttributeMapping, Edge, NodeDescription, StaticDescription } from './types.js';
import { resolveDependencies, type SourcedEdge } from './dependencies.js';
import { topologicalLevels } from './levels.js';
import { copyPlain, deepMerge } from './values.js';
import { locateFirst, type Locate } from './locate.js';

export interface CompileOptions {
  /** Given with `occopus-build -i ID` (update mode); otherwise a new lowercase UUIDv4. */
  infraId?: string;
  /** Source positions for messages (from the loader's LoadedDocument.locate); optional. */
  locate?: Locate;
}

export function compile(desc: InfraDescription, options: CompileOptions = {}): StaticDescription {
  const { locate } = options;
  const infraId = options.infraId ?? randomUUID();
  const userId = String(desc.user_id);
  const nodes = desc.nodes;
  checkUniqueNames(nodes, locate);

  const sourced = resolveDependencies(nodes, desc.dependencies ?? [], locate);
  const topological_order = topologicalLevels(
    nodes.map((n) => n.name),
    sourced,
    locate,
  );
  const edges: Edge[] = sourced.map(({ dependent, dependee, mappings }) => ({
    dependent,
    dependee,
    mappings: copyPlain(mappings),
  }));
  const variables: Mapping = copyPlain(desc.variables ?? {});

  return {
    infra_id: infraId,
    name: desc.infra_name,
    user_id: userId,
    nodes: nodes.map((entry) =>
      describeNode(entry, {
        infraId,
        infraName: desc.infra_name,
        userId,
        variables,
        edges: sourced,
      }),
    ),
    edges,
    topological_order,
    variables,
    suspended: false,
  };
}

/** Occopus lets the last of two same-named entries win silently while building both; we refuse. */
function checkUniqueNames(nodes: readonly InfraNodeEntry[], locate: Locate | undefined): void {
  const seen = new Map<string, number>();
  nodes.forEach((n, i) => {
    const first = seen.get(n.name);
    if (first !== undefined) {
      throw new CompileError(
        `duplicate node name '${n.name}': node ${i + 1} has the same name as node ${first + 1}`,
        locateFirst(locate, ['nodes', i, 'name'], ['nodes', i]),
      );
    }
    seen.set(n.name, i);
  });
}

interface NodeContext {
  infraId: string;
  infraName: string;
  userId: string;
  variables: Mapping;
  edges: readonly SourcedEdge[];
}

/** The node entry plus what the compiler injects (formats §2.4), scaling defaults left unfilled. */
function describeNode(entry: InfraNodeEntry, ctx: NodeContext): NodeDescription {
  const inbound: Record<string, AttributeMapping[]> = {};
  const outbound: Record<string, AttributeMapping[]> = {};
  for (const e of ctx.edges) {
    if (e.dependent === entry.name) inbound[e.dependee] = copyPlain(e.mappings);
    if (e.dependee === entry.name) outbound[e.dependent] = copyPlain(e.mappings);
  }
  const node: NodeDescription = {
    name: entry.name,
    type: entry.type,
    variables: deepMerge(ctx.variables, entry.variables ?? {}),
    infra_id: ctx.infraId,
    infra_name: ctx.infraName,
    user_id: ctx.userId,
    mappings: { inbound, outbound },
  };
  if (entry.scaling !== undefined) node.scaling = copyPlain(entry.scaling);
  if (entry.filter !== undefined) node.filter = copyPlain(entry.filter);
  if (entry.create_timeout !== undefined) node.create_timeout = entry.create_timeout;
  if (entry.attributes !== undefined) node.attributes = copyPlain(entry.attributes);
  return node;
}
