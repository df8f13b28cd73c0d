/**
 * Node resolution (formats §5): turns the selected node definition and the node description into
 * the resolved node definition a driver creates an instance from. Synchronous and pure except for
 * the address lookup and an explicitly allowed `cmd()`.
 */
import { SchemaError } from '../errors.js';
import type { NodeDefinition } from '../descriptors/types.js';
import { createHelpers } from './helpers.js';
import { resolveBasic } from './resolvers/basic.js';
import { resolveCloudinit } from './resolvers/cloudinit.js';
import type { ResolverInput } from './resolvers/common.js';
import { resolveDocker } from './resolvers/docker.js';
import type { ResolvedNode, ResolveOptions } from './types.js';

export type { AddressLookup, InstanceAddresses, ResolvedNode, ResolveOptions } from './types.js';

const RESOLVERS: Record<string, (input: ResolverInput) => ResolvedNode> = {
  cloudinit: resolveCloudinit,
  docker: resolveDocker,
  basic: resolveBasic,
};

/**
 * @throws TemplateError for a template syntax error, a missing `getip` target, a disabled `cmd()`
 * @throws NodeContextSchemaError when a rendered `#cloud-config` (or docker `context_variables`) is not YAML
 */
export function resolveNode(options: ResolveOptions): ResolvedNode {
  const type = options.definition.contextualisation?.type ?? 'basic';
  const resolver = RESOLVERS[type];
  if (!resolver) {
    throw new SchemaError([
      {
        message: `Unknown contextualisation type '${String(type)}' for node '${options.node.name}' (expected cloudinit, docker or basic)`,
        path: ['contextualisation', 'type'],
      },
    ]);
  }
  const warn = options.warn ?? (() => undefined);
  return resolver({
    nodeId: options.nodeId,
    node: options.node,
    // The caller's definition stays untouched: resolvers work on a copy.
    definition: structuredClone(options.definition) as NodeDefinition,
    helpers: createHelpers({ lookup: options.lookup, allowCmd: options.allowCmd, warn }),
  });
}
