/**
 * The `docker` resolver (formats §5.6): `attributes` gets the rendered `env` and `command` (what the
 * docker and azure_aci drivers read), rendered with the parsed `context_variables` as extra names.
 * No user data, and the resource is not rendered.
 */
import YAML from 'yaml';
import { NodeContextSchemaError } from '../../errors.js';
import { resolveAttributes } from '../attributes.js';
import { buildTemplateContext } from '../context.js';
import { isPlainObject } from '../python-str.js';
import { renderLeaves, renderTemplate, type TemplateContext } from '../template-engine.js';
import type { ResolvedNode } from '../types.js';
import { contextualisationWithout, fieldOfNode, resolvedSkeleton, type ResolverInput } from './common.js';

export function resolveDocker(input: ResolverInput): ResolvedNode {
  const { definition: def, node } = input;
  const contextualisation = contextualisationWithout(def.contextualisation, 'context_variables') ?? { type: 'docker' };
  const context = buildTemplateContext(input.nodeId, node, { ...def, contextualisation }, input.helpers);
  const variables = contextVariables(def.contextualisation?.['context_variables'], context, input);
  const attributeContext: TemplateContext = variables ? { ...context, ...variables, context_variables: variables } : context;
  const raw = {
    ...(isPlainObject(contextualisation['attributes']) ? contextualisation['attributes'] : {}),
    env: contextualisation['env'],
    command: contextualisation['command'] ?? null,
  };
  const attributes = resolveAttributes(raw, node, attributeContext, 'contextualisation');
  // Keep the section consistent with what the drivers read from `attributes`.
  if (contextualisation['env'] !== undefined) contextualisation['env'] = attributes['env'];
  if (contextualisation['command'] !== undefined) contextualisation['command'] = attributes['command'];
  if (contextualisation['attributes'] !== undefined) contextualisation['attributes'] = attributes;
  return {
    resource: def.resource,
    contextualisation,
    ...(def.config_management ? { config_management: def.config_management } : {}),
    ...(def.health_check ? { health_check: def.health_check } : {}),
    ...resolvedSkeleton(input, attributes),
  };
}

/** `context_variables`: a mapping has each string rendered; a string is rendered, then parsed as YAML. */
function contextVariables(
  value: unknown,
  context: TemplateContext,
  input: ResolverInput,
): Record<string, unknown> | null {
  const where = fieldOfNode('contextualisation.context_variables', input.node);
  if (value === undefined || value === null) return null;
  if (isPlainObject(value)) {
    return renderLeaves(value, context, 'contextualisation.context_variables', (p) => fieldOfNode(p, input.node)) as Record<
      string,
      unknown
    >;
  }
  if (typeof value !== 'string') {
    throw new NodeContextSchemaError(`${where} must be a mapping or a string`);
  }
  const text = renderTemplate(value, context, where);
  const doc = YAML.parseDocument(text, { uniqueKeys: false });
  const [error] = doc.errors;
  if (error) {
    throw new NodeContextSchemaError(`${where} is not valid YAML after rendering: ${error.message.split(' at line')[0]}`);
  }
  const parsed: unknown = doc.toJS();
  if (parsed === null || parsed === undefined) return null;
  if (!isPlainObject(parsed)) throw new NodeContextSchemaError(`${where} must render to a YAML mapping`);
  return parsed;
}
