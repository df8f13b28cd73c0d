/** The service's own routes: liveness (no token needed), Prometheus metrics, the OpenAPI document. */
import type { FastifyInstance } from 'fastify';
import { messageOf } from '../../errors.js';
import type { RestDeps } from '../context.js';
import { anyObject, errorResponses } from '../schemas.js';

export function registerServiceRoutes(app: FastifyInstance, deps: RestDeps): void {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags: ['service'],
        summary: 'Liveness and store reachability (no token needed)',
        security: [],
        response: {
          200: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } },
          503: { type: 'object', properties: { status: { type: 'string', enum: ['unavailable'] } } },
        },
      },
    },
    async (_req, reply) => {
      try {
        await deps.engine.ctx.store.getLease('health-probe');
        return { status: 'ok' };
      } catch (e) {
        // Unauthenticated callers learn only that the service is unhealthy; the reason goes to the log.
        deps.log.warn(`health check: the store does not answer: ${messageOf(e)}`);
        return reply.code(503).send({ status: 'unavailable' });
      }
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['service'],
        summary: 'Prometheus metrics: infrastructures, instances by state, passes, errors, durations',
        response: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses },
      },
    },
    async (_req, reply) => {
      const text = await deps.metrics.render(deps.engine.ctx.store, { active: deps.maintainers.active(), standby: deps.maintainers.standby() });
      return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
    },
  );

  app.get(
    '/openapi.json',
    {
      schema: { tags: ['service'], summary: 'This OpenAPI document', response: { 200: anyObject, ...errorResponses } },
    },
    async () => app.swagger(),
  );
}
