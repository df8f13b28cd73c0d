/** What the route groups share: the service's dependencies and the request-body helpers. */
import type { Engine } from '../api/engine.js';
import type { StaticDescription } from '../compiler/types.js';
import type { OccopusConfig } from '../config/config.js';
import { parseYamlText, type LoadedDocument } from '../descriptors/load.js';
import { YamlError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { RestError, unknownInfrastructure } from './errors.js';
import type { Maintainers } from './maintained.js';
import type { RestMetrics } from './metrics.js';

export interface RestDeps {
  engine: Engine;
  /** The service's maintenance processes (one InfrastructureManager) and their marks in the store. */
  maintainers: Maintainers;
  metrics: RestMetrics;
  /** The bearer token; `null` only when authentication was switched off explicitly (loopback only). */
  token: string | null;
  rest: Pick<OccopusConfig['rest'], 'cors_origins' | 'body_limit'>;
  /** Config `templates.allow_cmd`, for dry runs of descriptions. */
  allowCmd: boolean;
  log: Logger;
  /** How often an event stream looks in the store for events other processes wrote (ms). */
  eventPollMs?: number;
  /** How often an idle event stream sends a comment so proxies keep it open (ms). */
  keepAliveMs?: number;
  version?: string;
}

export async function requireInfra(deps: RestDeps, infraId: string): Promise<StaticDescription> {
  const description = await deps.engine.ctx.store.getInfrastructure(infraId);
  if (!description) throw unknownInfrastructure(infraId);
  return description;
}

/** The raw request body as text ('' when there is none). Bodies are read raw, as Occopus did. */
export function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return '';
}

/**
 * Parses a YAML (or JSON) body without the import tags: a REST client must not make the server
 * read its own files (Occopus parsed bodies with the unsafe loader, runtime §10.36). An empty body
 * or malformed YAML is a 400; a well-formed document that is wrong is a 422 later.
 */
export function parseBodyDocument(body: unknown, emptyReason: string): LoadedDocument {
  const text = bodyText(body);
  if (!text.trim()) throw new RestError(400, emptyReason, '', 'E_EMPTY_BODY');
  try {
    return parseYamlText(text, { allowImports: false, file: '<request body>' });
  } catch (e) {
    if (e instanceof YamlError && /YAML syntax error|exactly one YAML document/.test(e.message)) {
      throw new RestError(400, 'the request body is not a well-formed YAML or JSON document', e.describe(), 'E_YAML');
    }
    throw e;
  }
}
