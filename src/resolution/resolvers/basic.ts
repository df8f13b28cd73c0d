/**
 * The `basic` resolver (formats §5.7), also used when a definition has no contextualisation section:
 * attributes (each string rendered) with their connections, and synch_attrs. No user data, and the
 * resource is not rendered. Unlike Occopus, `getip` works here.
 */
import { resolveAttributes } from '../attributes.js';
import { buildTemplateContext } from '../context.js';
import type { ResolvedNode } from '../types.js';
import { contextualisationWithout, resolvedSkeleton, type ResolverInput } from './common.js';

export function resolveBasic(input: ResolverInput): ResolvedNode {
  const { definition: def, node } = input;
  const contextualisation = contextualisationWithout(def.contextualisation);
  const context = buildTemplateContext(input.nodeId, node, { ...def }, input.helpers);
  const attributes = resolveAttributes(contextualisation?.['attributes'], node, context, 'contextualisation.attributes');
  if (contextualisation && contextualisation['attributes'] !== undefined) contextualisation['attributes'] = attributes;
  return {
    resource: def.resource,
    ...(contextualisation ? { contextualisation } : {}),
    ...(def.config_management ? { config_management: def.config_management } : {}),
    ...(def.health_check ? { health_check: def.health_check } : {}),
    ...resolvedSkeleton(input, attributes),
  };
}
