/**
 * The shapes of the files users write, after YAML loading and schema checking. These are the
 * documented Occopus 1.10 formats (spec/formats.md §1, §3) plus our extensions
 * (`create_timeout`, dependencies by node name). Schemas in `schema/` and next to each driver
 * are checked against these types with `satisfies`.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Free-form user mapping (variables, filter, attributes). */
export type Mapping = Record<string, unknown>;

export interface ScalingSpec {
  min?: number;
  max?: number;
}

/** One item of an infrastructure description's `nodes` list (formats §1.2). */
export interface InfraNodeEntry {
  name: string;
  type: string;
  scaling?: ScalingSpec;
  filter?: Mapping;
  variables?: Mapping;
  /** Seconds a new instance may take to become ready (our extension; Occopus rejects it). */
  create_timeout?: number;
  /** Contextualisation attributes that override the definition's (Occopus reads them but rejected the key). */
  attributes?: Mapping;
}

/** `[src_attr, dst_attr]` or the long mapping form (formats §1.4). */
export type RawAttributeMapping = [string, string] | { attributes: [string, string]; synch?: boolean; [k: string]: unknown };

/**
 * A dependency: short form `[dependent, dependee]` or long form `{connection: [...], mappings}`.
 * Each end is a node entry (normally reached through a YAML alias) or a node name (our extension).
 */
export type RawDependency =
  | [unknown, unknown]
  | { connection: [unknown, unknown]; mappings?: RawAttributeMapping[]; [k: string]: unknown };

/** An infrastructure description file (formats §1.1). */
export interface InfraDescription {
  infra_name: string;
  user_id: string | number | boolean;
  nodes: InfraNodeEntry[];
  dependencies?: RawDependency[];
  variables?: Mapping;
}

/** `resource` section: `type` selects the driver, which owns the schema of the rest. */
export interface ResourceSection {
  type: string;
  name?: string;
  [key: string]: unknown;
}

export interface ContextualisationSection {
  type: 'cloudinit' | 'docker' | 'basic';
  [key: string]: unknown;
}

export interface ConfigManagementSection {
  type: string;
  [key: string]: unknown;
}

export interface MysqlDbCheck {
  name: string;
  user: string;
  pass: string;
}

/** `health_check` section (formats §3.6, runtime §2.1). Defaults are applied at check time. */
export interface HealthCheckSection {
  type?: 'basic';
  ping?: boolean;
  ports?: number[];
  urls?: string[];
  mysqldbs?: MysqlDbCheck[];
  timeout?: number;
}

/** One implementation of a node type (formats §3.1). */
export interface NodeDefinition {
  resource: ResourceSection;
  contextualisation?: ContextualisationSection;
  config_management?: ConfigManagementSection;
  health_check?: HealthCheckSection;
  /** Seconds a new instance may take to become ready (our extension; Occopus rejects it). */
  create_timeout?: number;
}

/** A node-definition file: node type (the part after `node_def:`) → its implementations. */
export type NodeDefinitionFile = Record<string, NodeDefinition[]>;
