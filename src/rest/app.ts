/**
 * The REST service's HTTP application (Fastify), separate from the process around it so tests can
 * drive it over `inject` or a real socket. Fixes Occopus's flaws (runtime §10.22, §10.35–36, §10.39):
 * real status codes, a bearer token on every route but `/health`, CORS off unless configured, a body
 * size limit, no import tags in bodies, no `/info` gateway.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { credentialsOf, tokenMatches } from './auth.js';
import type { RestDeps } from './context.js';
import { RestError, mapError } from './errors.js';
import { errorSchema } from './schemas.js';
import { registerInfrastructureRoutes } from './routes/infrastructures.js';
import { registerScalingRoutes } from './routes/scaling.js';
import { registerDefinitionRoutes } from './routes/definitions.js';
import { registerEventRoutes } from './routes/events.js';
import { registerServiceRoutes } from './routes/service.js';

export type { RestDeps } from './context.js';

export const DOCS_PREFIX = '/docs';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the token (only `/health`). */
    public?: boolean;
  }
}

/** The OpenAPI document and its browsable page: a browser may authenticate with Basic (token as password). */
function isDocsRoute(url: string | undefined): boolean {
  return url === '/openapi.json' || url === DOCS_PREFIX || (url?.startsWith(`${DOCS_PREFIX}/`) ?? false);
}

function corsAllowed(origin: string, allowed: readonly string[]): boolean {
  return allowed.includes('*') || allowed.includes(origin);
}

export async function buildRestApp(deps: RestDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: deps.rest.body_limit,
    routerOptions: { ignoreTrailingSlash: true },
    // Client-chosen request ids would let a caller forge log lines.
    requestIdHeader: false,
  });

  // Bodies are read raw whatever their Content-Type (as Occopus did); each route parses its own.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addSchema(errorSchema);

  app.setErrorHandler((error, req, reply) => {
    const { body, internal } = mapError(error, req.id);
    if (internal) req.log.error({ err: error }, 'request failed');
    else req.log.info({ status: body.status_code, code: body.code }, body.reason);
    return reply.code(body.status_code).send(body);
  });

  app.setNotFoundHandler((req) => {
    throw new RestError(404, 'Not Found', `no route ${req.method} ${req.url.split('?')[0] ?? ''}`, 'E_NOT_FOUND');
  });

  // CORS is off unless origins are configured; then only those origins get the headers.
  const origins = deps.rest.cors_origins;
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const origin = req.headers.origin;
    if (!origins.length || !origin || !corsAllowed(origin, origins)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('vary', 'Origin');
    reply.header('access-control-expose-headers', 'Last-Modified');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      reply.header('access-control-allow-methods', 'GET, POST, PUT, DELETE');
      reply.header('access-control-allow-headers', 'Authorization, Content-Type, Last-Event-ID');
      reply.header('access-control-max-age', '600');
      return reply.code(204).send();
    }
  });

  const token = deps.token;
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (token === null || req.routeOptions.config.public === true) return;
    const docs = (req.method === 'GET' || req.method === 'HEAD') && isDocsRoute(req.routeOptions.url);
    const given = credentialsOf(req.headers.authorization);
    // Basic only for reading the documentation: a browser replays Basic credentials on its own,
    // which must never let another site's page drive the API (CSRF).
    if (given && (given.scheme === 'bearer' || docs) && tokenMatches(given.secret, token)) return;
    reply.header('www-authenticate', docs ? 'Basic realm="occopus API documentation", charset="UTF-8"' : 'Bearer realm="occopus"');
    throw new RestError(
      401,
      given ? 'ERROR: invalid API token' : 'ERROR: an API token is required',
      "send 'Authorization: Bearer <token>'; the token is in $OCCOPUS_API_TOKEN, the config's rest.token_file or ~/.occopus/api-token",
      'E_UNAUTHORIZED',
    );
  });

  app.addHook('onResponse', async (req, reply) => {
    deps.metrics.request(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'occopus REST API',
        version: deps.version ?? '0',
        description:
          'The Occopus 1.10 REST routes and response shapes, with real HTTP status codes, bearer-token authentication and the extensions marked in each route.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });

  registerServiceRoutes(app, deps);
  registerInfrastructureRoutes(app, deps);
  registerScalingRoutes(app, deps);
  registerDefinitionRoutes(app, deps);
  registerEventRoutes(app, deps);
  return app;
}
