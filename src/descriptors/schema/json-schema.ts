/**
 * JSON Schemas of the user files, for editors (YAML language servers) and documentation. They are
 * generated from the same zod schemas the checkers use, so they cannot drift apart. They describe
 * the resolved data: editors see aliases and `!yaml_import` values already expanded.
 */
import { z } from 'zod';
import { configManagerTypes, resourceTypes } from '../../drivers/registry.js';
import { positiveSeconds } from '../../drivers/schema-kit.js';
import { healthCheckSchema } from '../../health/schema.js';
import { contextualisationTypes } from '../../resolution/contextualisation/registry.js';
import type { NodeDefinition } from '../types.js';
import { infraDescriptionSchema, infraNodeEntrySchema } from './infra-description.js';
import { NODE_DEF_PREFIX } from './node-definitions.js';

type Meta = z.core.JSONSchemaMeta;

interface Described<S> {
  type: string;
  schema: S;
  summary: string;
}

type Discriminable = z.ZodType & z.core.$ZodTypeDiscriminable;

/** The `type`-discriminated union of a table's schemas; each one becomes a named `$defs` entry. */
function unionOf<T extends Record<string, Described<Discriminable>>>(
  table: T,
  kind: string,
  registry: z.core.$ZodRegistry<Meta>,
): z.ZodDiscriminatedUnion<T[keyof T]['schema'][]> {
  const entries = Object.values(table);
  for (const e of entries) registry.add(e.schema, { id: `${kind}_${e.type}`, title: `${kind} ${e.type}`, description: e.summary });
  const schemas = entries.map((e) => e.schema) as [T[keyof T]['schema'], ...T[keyof T]['schema'][]];
  return z.discriminatedUnion('type', schemas);
}

function nodeDefinitionSchema(registry: z.core.$ZodRegistry<Meta>) {
  return z.strictObject({
    resource: unionOf(resourceTypes, 'resource', registry),
    contextualisation: unionOf(contextualisationTypes, 'contextualisation', registry).optional(),
    config_management: unionOf(configManagerTypes, 'config_management', registry).optional(),
    health_check: healthCheckSchema.optional(),
    create_timeout: positiveSeconds().optional(),
  });
}

// Keep the composed schema and the hand-written type in step.
type Assignable<T, U> = [T] extends [U] ? true : never;
const definitionMatchesType: Assignable<z.infer<ReturnType<typeof nodeDefinitionSchema>>, NodeDefinition> = true;
void definitionMatchesType;

type JsonSchema = Record<string, unknown>;

/**
 * A registry for one export: the ids and titles given here, on top of what the schemas carry with
 * `.meta()` (defaults, descriptions) in the global registry.
 */
function exportRegistry(): z.core.$ZodRegistry<Meta> {
  const registry = z.registry<Meta>();
  const own = registry.get.bind(registry);
  registry.get = (schema) => {
    const inherited = z.globalRegistry.get(schema);
    const local = own(schema);
    return inherited || local ? { ...inherited, ...local } : undefined;
  };
  return registry;
}

function infrastructureDescriptionJsonSchema(): JsonSchema {
  const registry = exportRegistry();
  registry.add(infraNodeEntrySchema, { id: 'node_entry', title: 'Node entry' });
  registry.add(infraDescriptionSchema, {
    title: 'Occopus infrastructure description',
    description: 'Nodes, their dependencies, scaling limits and variables (infra-*.yaml)',
  });
  return z.toJSONSchema(infraDescriptionSchema, { target: 'draft-2020-12', metadata: registry }) as JsonSchema;
}

function nodeDefinitionsJsonSchema(): JsonSchema {
  const registry = exportRegistry();
  const definition = nodeDefinitionSchema(registry);
  registry.add(healthCheckSchema, { id: 'health_check', title: 'health_check' });
  registry.add(definition, { id: 'node_definition', title: 'Implementation of a node type' });
  const file = z.record(z.string().regex(/^node_def:.+$/), z.array(definition));
  const generated = z.toJSONSchema(file, { target: 'draft-2020-12', metadata: registry }) as JsonSchema;
  // zod describes a record's keys with propertyNames; editors complete `node_def:` keys better from
  // patternProperties, which also says plainly that nothing else is allowed.
  const { $schema, $defs, additionalProperties: implementations } = generated;
  return {
    $schema,
    title: 'Occopus node definitions',
    description: `Implementations of node types, keyed '${NODE_DEF_PREFIX}<type>' (nodes/node_definitions.yaml)`,
    type: 'object',
    patternProperties: { [`^${NODE_DEF_PREFIX}.+$`]: implementations },
    additionalProperties: false,
    $defs,
  };
}

/** File name → JSON Schema document. */
export function jsonSchemas(): Record<string, object> {
  return {
    'infrastructure-description.schema.json': infrastructureDescriptionJsonSchema(),
    'node-definitions.schema.json': nodeDefinitionsJsonSchema(),
  };
}
