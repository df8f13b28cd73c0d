/**
 * Occopus's infrastructure routes (runtime §8.3) and `PUT /infrastructures/{id}` (reconfigure).
 * The shapes are Occopus's; the statuses are real ones.
 */
import type { FastifyInstance } from 'fastify';
import { destroyInfrastructure, reportInfrastructure } from '../../api/infrastructure.js';
import { leaseKey } from '../../api/lease.js';
import { compileInfrastructureDocument, validateCompiledInfrastructure } from '../../api/validate.js';
import type { InfraReport } from '../../enactor/report.js';
import { handleOf, instanceData } from '../../infraprocessor/instance.js';
import { ConflictError } from '../../errors.js';
import { RestError } from '../errors.js';
import { bodyText, parseBodyDocument, requireInfra, type RestDeps } from '../context.js';
import {
  REPORT_META_KEY,
  costResponse,
  errorResponses,
  infraIdParam,
  infraIdResponse,
  reportSchema,
  yamlBody,
} from '../schemas.js';

interface InfraParams {
  infraid: string;
}

const tags = ['infrastructures'];

export function registerInfrastructureRoutes(app: FastifyInstance, deps: RestDeps): void {
  const { store } = deps.engine.ctx;

  app.post(
    '/infrastructures/',
    {
      schema: {
        tags,
        summary: 'Submit an infrastructure description and start maintaining it',
        description:
          'The body is the description as YAML or JSON. It is checked (schema, compile, node definitions resolved with placeholder addresses) before anything is stored; the answer comes before any node exists.',
        body: yamlBody,
        response: { 200: infraIdResponse, ...errorResponses },
      },
    },
    async (req) => {
      const doc = parseBodyDocument(req.body, 'Empty POST data');
      const compiled = compileInfrastructureDocument(doc);
      const report = await validateCompiledInfrastructure(compiled, { store, allowCmd: deps.allowCmd });
      await store.putInfrastructure(compiled.description);
      const infraId = compiled.description.infra_id;
      await deps.maintainers.start(infraId);
      return { infraid: infraId, ...(report.warnings.length ? { warnings: report.warnings } : {}) };
    },
  );

  app.get(
    '/infrastructures/',
    {
      schema: {
        tags,
        summary: 'List the infrastructures',
        response: {
          200: {
            type: 'object',
            properties: {
              infrastructures: { type: 'array', items: { type: 'string' } },
              infrastuctures: {
                type: 'array',
                items: { type: 'string' },
                description: 'The same list under the misspelt key Occopus 1.10 sent (deprecated)',
              },
              maintained: { type: 'array', items: { type: 'string' }, description: 'Those this service maintains now (it holds their leases)' },
              standby: {
                type: 'array',
                items: { type: 'string' },
                description: 'Those whose maintainer in this service waits for the lease another process holds',
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      const ids = await store.listInfrastructures();
      const state = (id: string) => deps.maintainers.state(id);
      return {
        infrastructures: ids,
        infrastuctures: ids,
        maintained: ids.filter((id) => state(id) === 'active'),
        standby: ids.filter((id) => state(id) === 'standby'),
      };
    },
  );

  app.get<{ Params: InfraParams }>(
    '/infrastructures/:infraid',
    {
      schema: {
        tags,
        summary: 'Report nodes, instances, states, addresses and scaling',
        description:
          'Served from what the maintainer observed at the end of its last pass (`_meta.observed_at`, also in the Last-Modified header); an infrastructure never maintained is observed for the request.',
        params: infraIdParam,
        response: { 200: reportSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const infraId = req.params.infraid;
      const description = await requireInfra(deps, infraId);
      let report = (await store.getInfraMeta(infraId, 'report')) as InfraReport | null;
      const source = report ? 'maintainer' : 'live';
      if (!report) report = await reportInfrastructure(deps.engine, infraId);
      const lease = await store.getLease(leaseKey(infraId));
      const process = deps.maintainers.has(infraId) ? deps.maintainers.manager.get(infraId) : null;
      const state = deps.maintainers.state(infraId);
      const observed = new Date(report.observed_at);
      reply.header('last-modified', observed.toUTCString());
      return {
        ...report.nodes,
        [REPORT_META_KEY]: {
          infra_id: infraId,
          infra_name: description.name,
          observed_at: observed.toISOString(),
          source,
          maintained: state === 'active',
          standby: state === 'standby',
          maintainer: lease && lease.expires_at > Date.now() ? { holder: lease.holder, expires_at: new Date(lease.expires_at).toISOString() } : null,
          ...(process ? { passes: process.passes, last_error: process.lastError } : {}),
        },
      };
    },
  );

  app.put<{ Params: InfraParams }>(
    '/infrastructures/:infraid',
    {
      schema: {
        tags,
        summary: 'Reconfigure: replace the description of a running infrastructure',
        description:
          'Checked like a new description; the maintainer applies it on its next pass (adds and removes node types, adjusts counts). Not in Occopus.',
        params: infraIdParam,
        body: yamlBody,
        response: { 200: infraIdResponse, ...errorResponses },
      },
    },
    async (req) => {
      const infraId = req.params.infraid;
      const previous = await requireInfra(deps, infraId);
      const doc = parseBodyDocument(req.body, 'Empty PUT data');
      const compiled = compileInfrastructureDocument(doc, infraId);
      const report = await validateCompiledInfrastructure(compiled, { store, allowCmd: deps.allowCmd });
      compiled.description.suspended = previous.suspended;
      await store.putInfrastructure(compiled.description);
      return { infraid: infraId, ...(report.warnings.length ? { warnings: report.warnings } : {}) };
    },
  );

  app.delete<{ Params: InfraParams }>(
    '/infrastructures/:infraid',
    {
      schema: {
        tags,
        summary: 'Stop maintaining and destroy every instance and record',
        description:
          'Answers once everything is dropped. When another service sharing the store maintains it, waits for that one to let go of the lease (up to a third of engine.lease_ttl, at least 1 s, plus lease_ttl). 409 while another process (e.g. occopus-maintain -c) keeps holding the maintenance lease.',
        params: infraIdParam,
        response: { 200: infraIdResponse, ...errorResponses },
      },
    },
    async (req) => {
      const infraId = req.params.infraid;
      await requireInfra(deps, infraId);
      const wasMarked = await deps.maintainers.isMarked(infraId);
      const wasMaintained = wasMarked || deps.maintainers.has(infraId);
      await deps.maintainers.stop(infraId);
      try {
        // When another service maintains it, that one lets go of the lease at its next sync (the
        // mark is gone now), or its lease expires if it died: wait that long before giving up.
        await destroyInfrastructure(deps.engine, infraId, { waitMs: wasMarked ? deps.maintainers.handoverMs : 0 });
      } catch (e) {
        // Another process holds the lease: nothing was dropped, so keep maintaining as before.
        if (e instanceof ConflictError && wasMaintained) await deps.maintainers.start(infraId);
        throw e;
      }
      deps.metrics.forget(infraId);
      return { infraid: infraId };
    },
  );

  app.post<{ Params: InfraParams }>(
    '/infrastructures/:infraid/attach',
    {
      schema: {
        tags,
        summary: 'Start maintaining an existing infrastructure (e.g. one built with occopus-build)',
        params: infraIdParam,
        response: { 200: infraIdResponse, ...errorResponses },
      },
    },
    async (req) => {
      const infraId = req.params.infraid;
      await requireInfra(deps, infraId);
      // Marked: this service or another one sharing the store maintains it (each runs a maintainer).
      if (deps.maintainers.has(infraId) || (await deps.maintainers.isMarked(infraId))) {
        throw new RestError(409, `ERROR: Infrastructure ${infraId} already being maintained!`, '', 'E_CONFLICT');
      }
      await deps.maintainers.start(infraId);
      return { infraid: infraId };
    },
  );

  app.post<{ Params: InfraParams }>(
    '/infrastructures/:infraid/detach',
    {
      schema: {
        tags,
        summary: 'Stop maintaining (the infrastructure keeps running)',
        params: infraIdParam,
        response: { 200: infraIdResponse, ...errorResponses },
      },
    },
    async (req) => {
      const infraId = req.params.infraid;
      await requireInfra(deps, infraId);
      // Any service sharing the store may detach it: the others stop their maintainers at their next sync.
      if (!deps.maintainers.has(infraId) && !(await deps.maintainers.isMarked(infraId))) {
        throw new RestError(409, `ERROR: Infrastructure ${infraId} is not maintained!`, '', 'E_CONFLICT');
      }
      await deps.maintainers.stop(infraId);
      return { infraid: infraId };
    },
  );

  app.post<{ Params: InfraParams }>(
    '/infrastructures/:infraid/notify',
    {
      schema: {
        tags,
        summary: 'Store the notification settings of an infrastructure',
        description: 'The body is a JSON object, e.g. {"type": "fcm", "fcm": {...}}. It is stored, never returned or logged.',
        params: infraIdParam,
        body: { type: 'string', description: 'JSON object' },
        response: { 200: infraIdResponse, ...errorResponses },
      },
    },
    async (req) => {
      const infraId = req.params.infraid;
      await requireInfra(deps, infraId);
      const text = bodyText(req.body);
      if (!text.trim()) throw new RestError(400, 'Empty POST data', '', 'E_EMPTY_BODY');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new RestError(400, 'the notification must be a JSON object', 'the request body is not JSON', 'E_REQUEST');
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new RestError(422, 'the notification must be a JSON object', '', 'E_SCHEMA');
      }
      await store.setInfraMeta(infraId, 'notification', value as Record<string, never>);
      return { infraid: infraId };
    },
  );

  app.get<{ Params: InfraParams }>(
    '/infrastructures/:infraid/cost',
    {
      schema: {
        tags,
        summary: 'Cost so far of every instance, from drivers with a cost API (others count 0)',
        params: infraIdParam,
        response: { 200: costResponse, ...errorResponses },
      },
    },
    async (req) => {
      const infraId = req.params.infraid;
      const description = await requireInfra(deps, infraId);
      const result: Record<string, number | Record<string, number>> = {};
      for (const node of description.nodes) result[node.name] = {};
      let total = 0;
      const records = (await store.listInstances(infraId)).filter((r) => r.lifecycle === 'created');
      const costs = await Promise.all(
        records.map(async (record) => {
          try {
            const handler = await deps.engine.ctx.drivers.handlerFor(instanceData(record).resource);
            const cost = handler.getCost ? await handler.getCost(handleOf(record)) : 0;
            return Number.isFinite(cost) ? cost : 0;
          } catch {
            // Occopus counted any failure as 0; the cost route must not fail for one instance.
            return 0;
          }
        }),
      );
      records.forEach((record, i) => {
        const cost = costs[i] ?? 0;
        const perNode = (result[record.node_name] ??= {}) as Record<string, number>;
        perNode[record.node_id] = cost;
        total += cost;
      });
      return { ...result, totalcost: total };
    },
  );
}
