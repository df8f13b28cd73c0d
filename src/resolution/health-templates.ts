/**
 * Rendering of the health-check strings at check time (formats §5.9): each `urls[i]` and each
 * `mysqldbs[i].name/user/pass` is its own template. The context is Occopus's (`ip`, `node_id`,
 * `variables`, `instance_data`), plus `infra_id`, `infra_name` and `name` when `instance_data` has
 * them (Occopus templates cannot see those, formats §10 item 19).
 */
import type { HealthCheckSection, MysqlDbCheck } from '../descriptors/types.js';
import { isPlainObject } from './python-str.js';
import { renderTemplate, type TemplateContext } from './template-engine.js';

export interface HealthCheckTemplateContext {
  ip: string;
  node_id: string;
  variables: Record<string, unknown>;
  instance_data: Record<string, unknown>;
}

export function renderHealthCheckStrings(
  hc: HealthCheckSection,
  ctx: HealthCheckTemplateContext,
): { urls: string[]; mysqldbs: MysqlDbCheck[] } {
  // Every instance is checked on every pass: do not build a template context for nothing.
  if (!hc.urls?.length && !hc.mysqldbs?.length) return { urls: [], mysqldbs: [] };
  const context = healthContext(ctx);
  const render = (text: unknown, where: string): string =>
    typeof text === 'string' ? renderTemplate(text, context, where) : String(text ?? '');
  const urls = (hc.urls ?? []).map((url, i) => render(url, `health_check.urls[${i}]${ofNode(ctx)}`));
  const mysqldbs = (hc.mysqldbs ?? []).map((db, i) => ({
    name: render(db.name, `health_check.mysqldbs[${i}].name${ofNode(ctx)}`),
    user: render(db.user, `health_check.mysqldbs[${i}].user${ofNode(ctx)}`),
    pass: render(db.pass, `health_check.mysqldbs[${i}].pass${ofNode(ctx)}`),
  }));
  return { urls, mysqldbs };
}

function nodeName(ctx: HealthCheckTemplateContext): unknown {
  const description = ctx.instance_data['node_description'];
  return isPlainObject(description) ? description['name'] : undefined;
}

function ofNode(ctx: HealthCheckTemplateContext): string {
  const name = nodeName(ctx);
  return typeof name === 'string' ? ` of node '${name}'` : '';
}

function healthContext(ctx: HealthCheckTemplateContext): TemplateContext {
  const extra: TemplateContext = {};
  const data = ctx.instance_data;
  if (data['infra_id'] !== undefined) extra['infra_id'] = data['infra_id'];
  if (data['infra_name'] !== undefined) extra['infra_name'] = data['infra_name'];
  const name = nodeName(ctx);
  if (name !== undefined) extra['name'] = name;
  return { ...extra, ip: ctx.ip, node_id: ctx.node_id, variables: ctx.variables, instance_data: ctx.instance_data };
}
