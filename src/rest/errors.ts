/**
 * The REST error model. Occopus answered every error with HTTP 200 and a body
 * `{status_code, reason, message}` (runtime §8.2, §10.22); we keep that body, so Occopus clients
 * still find their fields, and send it with the real HTTP status.
 */
import { isOccopusError, type ErrorCode } from '../errors.js';

export interface ErrorBody {
  status_code: number;
  /** One line a human can act on (Occopus's texts for the checks it had). */
  reason: string;
  /** Details: every problem with its position in the request body, or '' (Occopus: str(args)). */
  message: string;
  /** Our stable error code (`E_NOT_FOUND`, `E_SCHEMA`, ...), for clients that branch on it. */
  code: string;
  /** Present on 500 answers: the id under which the details are in the service log. */
  request_id?: string;
}

/** An error raised by the REST layer itself, with the status it answers. */
export class RestError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    readonly detail = '',
    readonly code = 'E_REQUEST',
  ) {
    super(reason);
    this.name = 'RestError';
  }
}

export const unknownInfrastructure = (infraId: string): RestError =>
  new RestError(404, `ERROR: infrastructure '${infraId}' does not exist!`, '', 'E_NOT_FOUND');

// Occopus's text lacks the quote after the node name (runtime §10.23); ours has it.
export const unknownNode = (infraId: string, node: string): RestError =>
  new RestError(404, `ERROR: node '${node}' does not exist in infrastructure '${infraId}'!`, '', 'E_NOT_FOUND');

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  E_NOT_FOUND: 404,
  E_YAML: 422,
  E_SCHEMA: 422,
  E_COMPILE: 422,
  E_TEMPLATE: 422,
  E_NO_MATCHING_NODE_DEFINITION: 422,
  E_CONTEXT_SCHEMA: 422,
  E_CONFLICT: 409,
  // The service is shutting down and cancelled the work the request started.
  E_CANCELLED: 503,
};

/**
 * Codes whose message is about the server's own internals rather than the request: their 500
 * answers say only that something went wrong, and the details go to the log.
 */
const PRIVATE_CODES = new Set<string>(['E_INTERNAL', 'E_STORE']);

const REASON_OF: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASON_OF[status] ?? 'Error';
}

export interface MappedError {
  body: ErrorBody;
  /** Whether the error is the server's fault and belongs in the log with its stack. */
  internal: boolean;
}

/** Fastify's own errors (validation, body too large, bad content) carry a statusCode and a code. */
interface FrameworkError {
  statusCode?: number;
  code?: string;
  message: string;
  validation?: unknown;
}

function isFrameworkError(e: unknown): e is FrameworkError {
  return e instanceof Error && typeof (e as FrameworkError).statusCode === 'number';
}

export function mapError(e: unknown, requestId: string): MappedError {
  if (e instanceof RestError) {
    return { body: { status_code: e.statusCode, reason: e.reason, message: e.detail, code: e.code }, internal: false };
  }
  if (isOccopusError(e)) {
    const status = STATUS_OF[e.code] ?? 500;
    if (status === 500 && PRIVATE_CODES.has(e.code)) return internalError(requestId, e.code);
    return {
      body: {
        status_code: status,
        reason: e.message.split('\n')[0] ?? e.message,
        message: e.describe(),
        code: e.code,
        ...(status === 500 ? { request_id: requestId } : {}),
      },
      internal: status === 500,
    };
  }
  if (isFrameworkError(e) && e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    const status = e.statusCode;
    return {
      body: {
        status_code: status,
        reason: e.validation ? 'Invalid request' : reasonPhrase(status),
        message: e.message,
        code: e.code ?? 'E_REQUEST',
      },
      internal: false,
    };
  }
  return internalError(requestId, 'E_INTERNAL');
}

function internalError(requestId: string, code: string): MappedError {
  return {
    body: {
      status_code: 500,
      reason: 'Internal Server Error',
      message: `the service could not complete the request; the details are in its log under request id ${requestId}`,
      code,
      request_id: requestId,
    },
    internal: true,
  };
}
