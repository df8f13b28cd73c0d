/**
 * `GET /infrastructures/{id}/events`: the engine's events as server-sent events. Each event's `id`
 * is its sequence number in the store, so a client that reconnects with `Last-Event-ID` (or
 * `?after=`) misses nothing and sees nothing twice. Events come from the store: this process's
 * event bus only wakes the stream up early, and a poll brings in events that other processes
 * sharing the store (a CLI maintainer, another service) wrote.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { messageOf } from '../../errors.js';
import { requireInfra, type RestDeps } from '../context.js';
import { errorResponses, infraIdParam } from '../schemas.js';

const BATCH = 500;
/** An idle stream checks this often (in polls) whether its infrastructure still exists. */
const EXISTENCE_CHECK_EVERY = 10;

interface EventsQuery {
  after?: number;
  follow?: boolean;
}

export function registerEventRoutes(app: FastifyInstance, deps: RestDeps): void {
  const open = new Set<() => void>();
  // Streams never end by themselves: close them first so that closing the server does not wait for them.
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  app.get<{ Params: { infraid: string }; Querystring: EventsQuery }>(
    '/infrastructures/:infraid/events',
    {
      schema: {
        tags: ['events'],
        summary: "Stream the infrastructure's events (server-sent events)",
        description:
          'Replays the stored events after `Last-Event-ID` (or `?after=`), then follows new ones. Each SSE message has `id` = the event sequence number, `event` = its name, `data` = {seq, infra_id, name, timestamp, data}. The stream ends after `infradrop` or when the infrastructure is removed; `?follow=false` ends it after the replay.',
        params: infraIdParam,
        querystring: {
          type: 'object',
          properties: {
            after: { type: 'integer', minimum: 0, description: 'Replay events with a greater sequence number (default 0: all)' },
            follow: { type: 'boolean', default: true, description: 'Keep the stream open for new events' },
          },
        },
        headers: {
          type: 'object',
          properties: { 'last-event-id': { type: 'string', pattern: '^[0-9]{1,15}$' } },
        },
        response: {
          200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const infraId = req.params.infraid;
      await requireInfra(deps, infraId);
      const header = req.headers['last-event-id'];
      let last = typeof header === 'string' && header !== '' ? Number(header) : (req.query.after ?? 0);
      const follow = req.query.follow !== false;
      const { store, events } = deps.engine.ctx;

      reply.hijack();
      const res: ServerResponse = reply.raw;
      // Headers set by the hooks (CORS) would be dropped by hijack(): carry them over.
      const inherited: Record<string, string | number | string[]> = {};
      for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) inherited[k] = v;
      res.writeHead(200, {
        ...inherited,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      deps.metrics.streamOpened();

      let closed = false;
      let busy = false;
      let again = false;
      let polls = 0;
      const timers: NodeJS.Timeout[] = [];
      let unsubscribe = (): void => undefined;

      const close = (): void => {
        if (closed) return;
        closed = true;
        timers.forEach(clearInterval);
        unsubscribe();
        open.delete(close);
        deps.metrics.streamClosed();
        if (!res.writableEnded) res.end();
      };
      open.add(close);
      res.on('close', close);

      /** Sends what the store has after `last`; returns whether the stream should end. */
      const drain = async (): Promise<boolean> => {
        for (;;) {
          const batch = await store.readEvents(infraId, last, BATCH);
          for (const e of batch) {
            if (closed) return true;
            res.write(`id: ${e.seq}\nevent: ${e.name}\ndata: ${JSON.stringify(e)}\n\n`);
            last = e.seq;
            if (e.name === 'infradrop') return true;
          }
          if (batch.length < BATCH) return false;
        }
      };

      const pump = async (): Promise<void> => {
        if (closed) return;
        if (busy) {
          again = true;
          return;
        }
        busy = true;
        try {
          let ended = false;
          do {
            again = false;
            ended = await drain();
          } while (again && !ended && !closed);
          if (!ended && ++polls % EXISTENCE_CHECK_EVERY === 0) ended = (await store.getInfrastructure(infraId)) === null;
          if (ended) close();
        } catch (e) {
          deps.log.warn({ infra_id: infraId }, `event stream: ${messageOf(e)}`);
        } finally {
          busy = false;
        }
      };

      try {
        const ended = await drain();
        if (ended || !follow) return close();
      } catch (e) {
        deps.log.warn({ infra_id: infraId }, `event stream: ${messageOf(e)}`);
        return close();
      }
      unsubscribe = events.on((e) => {
        if (e.infra_id === infraId) void pump();
      });
      timers.push(setInterval(() => void pump(), deps.eventPollMs ?? 500));
      timers.push(
        setInterval(() => {
          if (!closed) res.write(': keep-alive\n\n');
        }, deps.keepAliveMs ?? 15_000),
      );
    },
  );
}
