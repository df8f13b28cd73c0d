/**
 * What Occopus users scripted around: importing node definitions over the API, and a dry run of a
 * description. Neither reads a file of the server (import tags are refused in bodies).
 */
import type { FastifyInstance } from 'fastify';
import { checkNodeDefinitionFile } from '../../descriptors/schema/node-definitions.js';
import { compileInfrastructureDocument, validateCompiledInfrastructure, type ValidationReport } from '../../api/validate.js';
import { parseBodyDocument, type RestDeps } from '../context.js';
import { anyObject, errorResponses, yamlBody } from '../schemas.js';

const importResponse = {
  type: 'object',
  properties: {
    imported: { type: 'array', items: { type: 'string' }, description: 'Node types stored, each replacing its earlier list' },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

const validationResponse = {
  type: 'object',
  properties: {
    valid: { type: 'boolean' },
    infra_name: { type: 'string' },
    user_id: { type: 'string' },
    levels: { type: 'array', items: { type: 'array', items: { type: 'string' } } },
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          type: { type: 'string' },
          level: { type: 'integer' },
          scaling: { type: 'object', properties: { min: { type: 'integer' }, max: { type: 'integer' } } },
          implementations: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                index: { type: 'integer' },
                resource_type: { type: 'string' },
                resolved: { ...anyObject, description: 'With ?render=true: the rendered node definition' },
              },
            },
          },
        },
      },
    },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

export function registerDefinitionRoutes(app: FastifyInstance, deps: RestDeps): void {
  const { store } = deps.engine.ctx;

  app.put(
    '/nodedefinitions',
    {
      schema: {
        tags: ['node definitions'],
        summary: 'Import node definitions (the occopus-import file format)',
        description: "All or nothing: every 'node_def:<type>' is checked before any is stored.",
        body: yamlBody,
        response: { 200: importResponse, ...errorResponses },
      },
    },
    async (req) => {
      const doc = parseBodyDocument(req.body, 'Empty PUT data');
      const { value, warnings } = checkNodeDefinitionFile(doc);
      await store.importNodeDefinitions(value);
      return { imported: Object.keys(value), warnings };
    },
  );

  app.get(
    '/nodedefinitions',
    {
      schema: {
        tags: ['node definitions'],
        summary: 'List the imported node types',
        response: { 200: { type: 'object', properties: { types: { type: 'array', items: { type: 'string' } } } }, ...errorResponses },
      },
    },
    async () => ({ types: await store.listNodeDefinitionTypes() }),
  );

  app.post<{ Querystring: { render?: boolean } }>(
    '/validate',
    {
      schema: {
        tags: ['node definitions'],
        summary: 'Dry run of a description: schema check, compile, resolve every node (nothing is created or stored)',
        body: yamlBody,
        querystring: {
          type: 'object',
          properties: { render: { type: 'boolean', default: false, description: 'Include each rendered node definition' } },
        },
        response: { 200: validationResponse, ...errorResponses },
      },
    },
    async (req) => {
      const doc = parseBodyDocument(req.body, 'Empty POST data');
      const report = await validateCompiledInfrastructure(compileInfrastructureDocument(doc), { store, allowCmd: deps.allowCmd });
      return { valid: true, ...(req.query.render ? report : withoutRendering(report)) };
    },
  );
}

function withoutRendering(report: ValidationReport): Omit<ValidationReport, 'nodes'> & { nodes: unknown[] } {
  return {
    ...report,
    nodes: report.nodes.map((n) => ({
      ...n,
      implementations: n.implementations.map(({ index, resource_type }) => ({ index, resource_type })),
    })),
  };
}
