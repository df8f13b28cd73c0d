/**
 * The names a resolution template sees (formats §5.3):
 * `{node_id} ∪ node description ∪ selected definition's sections ∪ helpers`, later keys winning.
 */
import type { NodeDescription } from '../compiler/types.js';
import type { ConfigManagementSection } from '../descriptors/types.js';
import type { TemplateHelpers } from './helpers.js';
import { isPlainObject, pyStr } from './python-str.js';
import type { TemplateContext } from './template-engine.js';

export function buildTemplateContext(
  nodeId: string,
  node: NodeDescription,
  sections: Record<string, unknown>,
  helpers: TemplateHelpers,
): TemplateContext {
  const context: TemplateContext = { node_id: nodeId };
  for (const [k, v] of Object.entries(node)) if (v !== undefined) context[k] = v;
  for (const [k, v] of Object.entries(sections)) if (v !== undefined) context[k] = v;
  return { ...context, ...helpers };
}

/**
 * The `puppet` name of a puppet_solo node: each of `modules`, `manifests`, `attributes` as its items
 * in Python `str()` form, joined by spaces (a mapping contributes its keys). The puppet tutorial's
 * sed script parses the `{'k': 'v'}` dict form (formats §5.3, plugins §9.4).
 * Occopus splits a plain string into characters; we take it as one item.
 */
export function puppetTemplateNames(cm: ConfigManagementSection): Record<string, string> | undefined {
  if (cm.type !== 'puppet_solo') return undefined;
  const join = (value: unknown): string => {
    if (value === undefined || value === null) return '';
    if (Array.isArray(value)) return value.map((item) => pyStr(item)).join(' ');
    if (isPlainObject(value)) return Object.keys(value).join(' ');
    return pyStr(value);
  };
  return { modules: join(cm['modules']), manifests: join(cm['manifests']), attributes: join(cm['attributes']) };
}
