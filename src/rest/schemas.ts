/**
 * JSON Schemas shared by the routes. They validate requests, shape responses (Fastify serialises
 * with them, so nothing a schema does not name leaves the service) and make the OpenAPI document.
 */

export const errorSchema = {
  $id: 'occopus-error',
  type: 'object',
  description: "Occopus's error body ({status_code, reason, message}), sent with the same HTTP status.",
  required: ['status_code', 'reason', 'message'],
  properties: {
    status_code: { type: 'integer' },
    reason: { type: 'string' },
    message: { type: 'string' },
    code: { type: 'string', description: 'Stable error code (E_NOT_FOUND, E_SCHEMA, ...)' },
    request_id: { type: 'string', description: 'On 500 answers: where the details are in the service log' },
  },
} as const;

const errorRef = { $ref: 'occopus-error#' } as const;

/** Every route answers errors with the Occopus error body. */
export const errorResponses = { '4xx': errorRef, '5xx': errorRef } as const;

export const infraIdParam = {
  type: 'object',
  required: ['infraid'],
  properties: { infraid: { type: 'string', minLength: 1, maxLength: 200, description: 'Infrastructure id' } },
} as const;

export const nodeParam = {
  type: 'object',
  required: ['infraid', 'nodename'],
  properties: {
    infraid: infraIdParam.properties.infraid,
    nodename: { type: 'string', minLength: 1, maxLength: 200, description: 'Node name in the description' },
  },
} as const;

export const countParam = {
  type: 'object',
  required: ['infraid', 'nodename', 'count'],
  properties: {
    ...nodeParam.properties,
    // Occopus's routes took unsigned decimal digits only.
    count: { type: 'integer', minimum: 0, maximum: 10000 },
  },
} as const;

export const nodeIdParam = {
  type: 'object',
  required: ['infraid', 'nodename', 'nodeid'],
  properties: {
    ...nodeParam.properties,
    nodeid: { type: 'string', minLength: 1, maxLength: 200, description: 'Node id, or an IPv4/IPv6 address of the instance' },
  },
} as const;

export const infraIdResponse = {
  type: 'object',
  required: ['infraid'],
  properties: {
    infraid: { type: 'string' },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;

/** Description bodies: YAML or JSON text, whatever the Content-Type says (as in Occopus). */
export const yamlBody = {
  type: 'string',
  description: 'YAML or JSON text (import tags such as !yaml_import are refused)',
} as const;

const instanceSchema = {
  type: 'object',
  properties: {
    resource_address: {
      anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'null' }],
      description: 'The address, or all of them when there are several',
    },
    state: { type: 'string', enum: ['ready', 'pending', 'shutdown', 'temp_failed', 'failed', 'unknown'] },
    details: { type: 'array', items: { type: 'string' }, description: 'Why it is not ready (extension)' },
  },
} as const;

export const nodeReportSchema = {
  type: 'object',
  properties: {
    instances: { type: 'object', additionalProperties: instanceSchema, description: 'node_id -> instance' },
    scaling: {
      type: 'object',
      properties: { actual: { type: 'integer' }, target: { type: 'integer' }, min: { type: 'integer' }, max: { type: 'integer' } },
    },
  },
} as const;

export const REPORT_META_KEY = '_meta';

export const reportSchema = {
  type: 'object',
  description:
    "Occopus's report: one key per node name. `_meta` (not a valid node name, so it never clashes) says when and by whom it was observed.",
  properties: {
    [REPORT_META_KEY]: {
      type: 'object',
      properties: {
        infra_id: { type: 'string' },
        infra_name: { type: 'string' },
        observed_at: { type: 'string', format: 'date-time' },
        source: { type: 'string', enum: ['maintainer', 'live'], description: "'maintainer': the last maintenance pass; 'live': observed for this request" },
        maintained: { type: 'boolean', description: 'Whether this service maintains the infrastructure now (it holds the maintenance lease)' },
        standby: {
          type: 'boolean',
          description: "Whether this service's maintainer waits for the lease another process holds (and takes over if that one dies)",
        },
        maintainer: {
          anyOf: [
            { type: 'null' },
            { type: 'object', properties: { holder: { type: 'string' }, expires_at: { type: 'string', format: 'date-time' } } },
          ],
          description: 'The process holding the maintenance lease now (this service, a CLI maintainer, ...)',
        },
        passes: { type: 'integer', description: "Passes made by this service's maintainer since it started" },
        last_error: { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'Why the last pass failed, if it did' },
      },
    },
  },
  additionalProperties: nodeReportSchema,
} as const;

export const scaleResponse = {
  type: 'object',
  required: ['method', 'infraid', 'nodename'],
  properties: {
    method: { type: 'string', enum: ['scaleup', 'scaledown', 'scaleto'] },
    infraid: { type: 'string' },
    nodename: { type: 'string' },
    count: { type: 'integer' },
    nodeid: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    notes: { type: 'array', items: { type: 'string' }, description: 'What will not be applied (beyond max, below min)' },
  },
} as const;

export const costResponse = {
  type: 'object',
  required: ['totalcost'],
  description: 'totalcost, and per node name a map node_id -> cost (Occopus shape)',
  properties: { totalcost: { type: 'number' } },
  additionalProperties: { type: 'object', additionalProperties: { type: 'number' } },
} as const;

export const anyObject = { type: 'object', additionalProperties: true } as const;
