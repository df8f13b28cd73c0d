/**
 * Typed errors shared by every layer. Each carries a stable `code` so the CLI, the REST service and
 * library users can branch on it without parsing messages. A `location` points at the user's file
 * when the error comes from input they wrote.
 *
 * Messages never contain secrets: callers pass field names, never credential values.
 */

export interface SourceLocation {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  return `${loc.file}:${loc.line}:${loc.column}`;
}

export type ErrorCode =
  | 'E_YAML' // malformed YAML, refused tag, bad import
  | 'E_SCHEMA' // a file does not match its schema
  | 'E_COMPILE' // duplicate names, unknown nodes, cycles
  | 'E_NO_MATCHING_NODE_DEFINITION'
  | 'E_TEMPLATE' // template syntax or evaluation error
  | 'E_CONTEXT_SCHEMA' // rendered cloud-config is not YAML
  | 'E_CONFIG'
  | 'E_AUTH'
  | 'E_STORE'
  | 'E_NOT_FOUND'
  | 'E_CONFLICT'
  | 'E_DRIVER'
  | 'E_NODE_CREATION'
  | 'E_NODE_FAILED'
  | 'E_CANCELLED'
  | 'E_INTERNAL';

export class OccopusError extends Error {
  readonly code: ErrorCode;
  readonly location: SourceLocation | undefined;

  constructor(code: ErrorCode, message: string, options: { location?: SourceLocation; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.location = options.location;
  }

  /** `file:line:col: message`, or the bare message when there is no location. */
  describe(): string {
    const where = formatLocation(this.location);
    return where ? `${where}: ${this.message}` : this.message;
  }
}

/** Malformed YAML, a refused tag, a missing or unreadable imported file. */
export class YamlError extends OccopusError {
  constructor(message: string, location?: SourceLocation, cause?: unknown) {
    super('E_YAML', message, { ...(location ? { location } : {}), cause });
  }
}

/** A single schema violation. Several are collected into a {@link SchemaErrors}. */
export interface SchemaIssue {
  message: string;
  /** Path inside the checked document, e.g. `['nodes', 0, 'name']`. */
  path: (string | number)[];
  location?: SourceLocation;
}

export class SchemaError extends OccopusError {
  readonly issues: SchemaIssue[];
  constructor(issues: SchemaIssue[]) {
    const first = issues[0];
    super('E_SCHEMA', first ? first.message : 'schema error', first?.location ? { location: first.location } : {});
    this.issues = issues;
  }

  override describe(): string {
    return this.issues
      .map((i) => {
        const where = formatLocation(i.location);
        return where ? `${where}: ${i.message}` : i.message;
      })
      .join('\n');
  }
}

/** Duplicate node names, dependencies on unknown nodes, dependency cycles. */
export class CompileError extends OccopusError {
  constructor(message: string, location?: SourceLocation) {
    super('E_COMPILE', message, location ? { location } : {});
  }
}

export class NoMatchingNodeDefinition extends OccopusError {
  readonly nodeType: string;
  readonly filter: Record<string, unknown>;
  constructor(nodeType: string, filter: Record<string, unknown>) {
    super(
      'E_NO_MATCHING_NODE_DEFINITION',
      `No matching node definition for type '${nodeType}'` +
        (Object.keys(filter).length ? ` with filter ${JSON.stringify(filter)}` : ''),
    );
    this.nodeType = nodeType;
    this.filter = filter;
  }
}

export class TemplateError extends OccopusError {
  constructor(message: string, location?: SourceLocation, cause?: unknown) {
    super('E_TEMPLATE', message, { ...(location ? { location } : {}), cause });
  }
}

/** Rendered `#cloud-config` that does not parse as YAML (Occopus: NodeContextSchemaError). */
export class NodeContextSchemaError extends OccopusError {
  constructor(message: string) {
    super('E_CONTEXT_SCHEMA', message);
  }
}

export class ConfigError extends OccopusError {
  constructor(message: string, location?: SourceLocation) {
    super('E_CONFIG', message, location ? { location } : {});
  }
}

export class AuthError extends OccopusError {
  constructor(message: string) {
    super('E_AUTH', message);
  }
}

export class StoreError extends OccopusError {
  constructor(message: string, cause?: unknown) {
    super('E_STORE', message, { cause });
  }
}

export class NotFoundError extends OccopusError {
  constructor(message: string) {
    super('E_NOT_FOUND', message);
  }
}

export class ConflictError extends OccopusError {
  constructor(message: string) {
    super('E_CONFLICT', message);
  }
}

export function isOccopusError(e: unknown): e is OccopusError {
  return e instanceof OccopusError;
}

/** Message for an unknown thrown value, for the rare places that must stringify one. */
export function messageOf(e: unknown): string {
  if (e instanceof OccopusError) return e.describe();
  if (e instanceof Error) return e.message;
  return String(e);
}

/** A driver could not do what it was asked (spawn failure, backend refusal, bad instance data). */
export class DriverError extends OccopusError {
  constructor(message: string, cause?: unknown) {
    super('E_DRIVER', message, { cause });
  }
}
