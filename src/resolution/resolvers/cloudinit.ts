/**
 * The `cloudinit` resolver (formats §5.5): renders `resource` and `config_management` (each string
 * separately), then the user data (`context`) as one template, then the attributes; a rendered
 * `#cloud-config` must be YAML.
 */
import YAML from 'yaml';
import { NodeContextSchemaError, TemplateError } from '../../errors.js';
import type { NodeDescription } from '../../compiler/types.js';
import type { ConfigManagementSection, ResourceSection } from '../../descriptors/types.js';
import { resolveAttributes } from '../attributes.js';
import { CLOUD_CONFIG_HEADER, emitCloudConfig } from '../cloud-config-emitter.js';
import { buildTemplateContext, puppetTemplateNames } from '../context.js';
import { isPlainObject } from '../python-str.js';
import { renderLeaves, renderTemplate } from '../template-engine.js';
import type { ResolvedNode } from '../types.js';
import { contextualisationWithout, fieldOfNode, resolvedSkeleton, type ResolverInput } from './common.js';

export function resolveCloudinit(input: ResolverInput): ResolvedNode {
  const { definition: def, node } = input;
  const describe = (path: string): string => fieldOfNode(path, node);
  const contextualisation = contextualisationWithout(def.contextualisation, 'context_template') ?? { type: 'cloudinit' };
  const context = buildTemplateContext(input.nodeId, node, { ...def, contextualisation }, input.helpers);

  // Later templates see the rendered sections, as in Occopus (they share one context).
  const resource = renderLeaves(def.resource, context, 'resource', describe) as ResourceSection;
  context['resource'] = resource;
  let configManagement: ConfigManagementSection | undefined;
  if (def.config_management) {
    configManagement = renderLeaves(def.config_management, context, 'config_management', describe) as ConfigManagementSection;
    context['config_management'] = configManagement;
    const puppet = puppetTemplateNames(configManagement);
    if (puppet) context['puppet'] = puppet;
  }

  const template = def.contextualisation?.['context_template'];
  const where =
    describe('contextualisation.context_template') +
    (isPlainObject(template) ? ' (line numbers are those of the generated #cloud-config text)' : '');
  const userData = renderTemplate(contextTemplateText(template, where), context, where);
  const attributes = resolveAttributes(contextualisation['attributes'], node, context, 'contextualisation.attributes');
  if (contextualisation['attributes'] !== undefined) contextualisation['attributes'] = attributes;
  checkCloudConfig(userData, node);

  return {
    resource,
    contextualisation,
    ...(configManagement ? { config_management: configManagement } : {}),
    ...(def.health_check ? { health_check: def.health_check } : {}),
    ...resolvedSkeleton(input, attributes),
    context: userData,
  };
}

/** The template text of `context_template`: a mapping becomes `#cloud-config` YAML, a string is used as is. */
export function contextTemplateText(template: unknown, where: string): string {
  if (template === undefined || template === null) return '';
  if (typeof template === 'string') return template;
  if (isPlainObject(template)) return emitCloudConfig(template);
  throw new TemplateError(`${where} must be a mapping, a string or null`);
}

/**
 * A context that starts with `#cloud-config` must parse as YAML, else cloud-init would ignore it
 * silently. The message starts as Occopus's (0-based line) and adds what the parser found.
 */
export function checkCloudConfig(userData: string, node: NodeDescription): void {
  if (!userData.startsWith(CLOUD_CONFIG_HEADER)) return;
  const doc = YAML.parseDocument(userData, { uniqueKeys: false });
  const [error] = doc.errors;
  if (!error) return;
  const pos = error.linePos?.[0];
  const head = pos
    ? `Schema error in context of node definition at line ${pos.line - 1}.`
    : 'Schema error in context of node definition.';
  const reason = error.message.split(' at line')[0] ?? error.message;
  const at = pos ? ` (line ${pos.line}, column ${pos.col} of the rendered cloud-config, counting from 1)` : '';
  throw new NodeContextSchemaError(`${head} Node '${node.name}': the rendered cloud-config is not valid YAML: ${reason}${at}`);
}
