/**
 * Occopus's scaling routes (runtime §8.3). They only record requests; the maintainer carries them
 * out on its next pass, consuming each exactly once. Unlike Occopus, the answer says (`notes`) when
 * a request goes beyond the node's min/max and will not be applied in full.
 */
import type { FastifyInstance } from 'fastify';
import { requestScaling } from '../../api/infrastructure.js';
import { unknownNode } from '../errors.js';
import { requireInfra, type RestDeps } from '../context.js';
import { countParam, errorResponses, nodeIdParam, nodeParam, scaleResponse } from '../schemas.js';

interface NodeParams {
  infraid: string;
  nodename: string;
}
interface CountParams extends NodeParams {
  count: number;
}
interface NodeIdParams extends NodeParams {
  nodeid: string;
}

type Request = Parameters<typeof requestScaling>[3];

const tags = ['scaling'];

export function registerScalingRoutes(app: FastifyInstance, deps: RestDeps): void {
  /** Checks the infrastructure and the node (404s with Occopus's texts), then records the request. */
  async function scale(infraId: string, nodeName: string, request: Request | null): Promise<string[]> {
    const description = await requireInfra(deps, infraId);
    if (!description.nodes.some((n) => n.name === nodeName)) throw unknownNode(infraId, nodeName);
    if (!request) return [];
    return (await requestScaling(deps.engine, infraId, nodeName, request)).notes;
  }

  const withNotes = (notes: string[]): { notes?: string[] } => (notes.length ? { notes } : {});

  const up = async (p: NodeParams, count: number) => {
    // Occopus wrote no record for a count of 0, and answered as usual.
    const notes = await scale(p.infraid, p.nodename, count > 0 ? { kind: 'create', count } : null);
    return { method: 'scaleup', infraid: p.infraid, nodename: p.nodename, count, ...withNotes(notes) };
  };

  app.post<{ Params: NodeParams }>(
    '/infrastructures/:infraid/scaleup/:nodename',
    {
      schema: { tags, summary: 'Request one more instance of a node', params: nodeParam, response: { 200: scaleResponse, ...errorResponses } },
    },
    (req) => up(req.params, 1),
  );

  app.post<{ Params: CountParams }>(
    '/infrastructures/:infraid/scaleup/:nodename/:count',
    {
      schema: { tags, summary: 'Request `count` more instances of a node', params: countParam, response: { 200: scaleResponse, ...errorResponses } },
    },
    (req) => up(req.params, req.params.count),
  );

  app.post<{ Params: NodeParams }>(
    '/infrastructures/:infraid/scaledown/:nodename',
    {
      schema: {
        tags,
        summary: 'Request one instance fewer (the downscale strategy picks which)',
        params: nodeParam,
        response: { 200: scaleResponse, ...errorResponses },
      },
    },
    async (req) => {
      const p = req.params;
      const notes = await scale(p.infraid, p.nodename, { kind: 'destroy', count: 1 });
      return { method: 'scaledown', infraid: p.infraid, nodename: p.nodename, nodeid: null, ...withNotes(notes) };
    },
  );

  app.post<{ Params: NodeIdParams }>(
    '/infrastructures/:infraid/scaledown/:nodename/:nodeid',
    {
      schema: {
        tags,
        summary: 'Request the removal of one instance, by node id or address (IPv4 or IPv6)',
        params: nodeIdParam,
        response: { 200: scaleResponse, ...errorResponses },
      },
    },
    async (req) => {
      const p = req.params;
      const notes = await scale(p.infraid, p.nodename, { kind: 'destroy', selector: p.nodeid });
      return { method: 'scaledown', infraid: p.infraid, nodename: p.nodename, nodeid: p.nodeid, ...withNotes(notes) };
    },
  );

  app.post<{ Params: CountParams }>(
    '/infrastructures/:infraid/scaleto/:nodename/:count',
    {
      schema: {
        tags,
        summary: 'Request `count` instances of a node in all (kept within min..max)',
        params: countParam,
        response: { 200: scaleResponse, ...errorResponses },
      },
    },
    async (req) => {
      const p = req.params;
      const notes = await scale(p.infraid, p.nodename, { kind: 'target', count: p.count });
      return { method: 'scaleto', infraid: p.infraid, nodename: p.nodename, count: p.count, ...withNotes(notes) };
    },
  );
}
