import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadYamlFile } from '../../../src/descriptors/load.js';
import { jsonSchemas } from '../../../src/descriptors/schema/json-schema.js';
import { configManagerTypes, resourceTypes } from '../../../src/drivers/registry.js';
import { contextualisationTypes } from '../../../src/resolution/contextualisation/registry.js';
import { exampleFiles } from './helpers.js';

type Schema = Record<string, unknown>;

/**
 * Just enough of a JSON Schema 2020-12 validator for the keywords zod emits here (no validator
 * library is installed). Returns the paths that fail, empty when the value is valid.
 */
function validate(schema: unknown, value: unknown, root: Schema, at = '$'): string[] {
  if (schema === false) return [`${at}: not allowed`];
  if (schema === true || typeof schema !== 'object' || schema === null) return [];
  const s = schema as Schema;
  const errors: string[] = [];
  const fail = (why: string) => errors.push(`${at}: ${why}`);
  if (typeof s.$ref === 'string') {
    const name = s.$ref.replace('#/$defs/', '');
    errors.push(...validate((root.$defs as Schema)[name], value, root, at));
  }
  if (Array.isArray(s.oneOf)) {
    const passing = s.oneOf.filter((sub) => validate(sub, value, root, at).length === 0).length;
    if (passing !== 1) fail(`matches ${passing} of oneOf`);
  }
  if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => validate(sub, value, root, at).length === 0)) fail('matches no anyOf');
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    const ok = types.some((t) => t === actual || (t === 'integer' && Number.isInteger(value)));
    if (!ok) return [...errors, `${at}: expected ${types.join('|')}, got ${actual}`];
  }
  if ('const' in s && s.const !== value) fail(`expected ${JSON.stringify(s.const)}`);
  if (typeof value === 'string') {
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern).test(value)) fail(`does not match ${s.pattern}`);
    if (typeof s.minLength === 'number' && value.length < s.minLength) fail('too short');
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) fail('below minimum');
    if (typeof s.maximum === 'number' && value > s.maximum) fail('above maximum');
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum) fail('not above exclusiveMinimum');
  }
  if (Array.isArray(value)) {
    const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : [];
    if (typeof s.minItems === 'number' && value.length < s.minItems) fail('too few items');
    if (typeof s.maxItems === 'number' && value.length > s.maxItems) fail('too many items');
    value.forEach((item, i) => {
      const sub = i < prefix.length ? prefix[i] : s.items;
      if (sub !== undefined) errors.push(...validate(sub, item, root, `${at}[${i}]`));
    });
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const props = (s.properties ?? {}) as Schema;
    const patterns = Object.entries((s.patternProperties ?? {}) as Schema);
    for (const key of (s.required ?? []) as string[]) if (!(key in value)) fail(`missing ${key}`);
    for (const [key, v] of Object.entries(value)) {
      const matching = patterns.filter(([p]) => new RegExp(p).test(key));
      if (key in props) errors.push(...validate(props[key], v, root, `${at}.${key}`));
      for (const [, sub] of matching) errors.push(...validate(sub, v, root, `${at}.${key}`));
      if (!(key in props) && matching.length === 0 && s.additionalProperties !== undefined) {
        errors.push(...validate(s.additionalProperties, v, root, `${at}.${key}`));
      }
      if (s.propertyNames !== undefined) errors.push(...validate(s.propertyNames, key, root, `${at}{${key}}`));
    }
  }
  return errors;
}

const schemas = jsonSchemas() as Record<string, Schema>;
const infraSchema = schemas['infrastructure-description.schema.json'] as Schema;
const nodesSchema = schemas['node-definitions.schema.json'] as Schema;

describe('JSON Schema export', () => {
  it('exports the two user-file schemas as plain JSON (draft 2020-12)', () => {
    assert.deepEqual(Object.keys(schemas).sort(), ['infrastructure-description.schema.json', 'node-definitions.schema.json']);
    for (const s of Object.values(schemas)) {
      assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
      assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
    }
  });

  it('describes the infrastructure description: required keys, the name rule, node entries', () => {
    assert.deepEqual(infraSchema.required, ['infra_name', 'user_id', 'nodes']);
    assert.equal(infraSchema.additionalProperties, false);
    const props = infraSchema.properties as Record<string, Schema>;
    assert.equal(props.infra_name?.pattern, '^[A-Za-z0-9-]{1,63}$');
    const entry = (infraSchema.$defs as Record<string, Schema>).node_entry as Schema;
    assert.deepEqual(Object.keys(entry.properties as Schema).sort(), ['attributes', 'create_timeout', 'filter', 'name', 'scaling', 'type', 'variables']);
  });

  it("keys node definitions by 'node_def:' pattern and discriminates sections by type", () => {
    assert.deepEqual(Object.keys(nodesSchema.patternProperties as Schema), ['^node_def:.+$']);
    assert.equal(nodesSchema.additionalProperties, false);
    const defs = nodesSchema.$defs as Record<string, Schema>;
    for (const [kind, table] of [
      ['resource', resourceTypes],
      ['contextualisation', contextualisationTypes],
      ['config_management', configManagerTypes],
    ] as const) {
      const union = ((defs.node_definition?.properties as Record<string, Schema>)[kind] as Schema).oneOf as Schema[];
      assert.equal(union.length, Object.keys(table).length);
      for (const type of Object.keys(table)) {
        const def = defs[`${kind}_${type}`];
        assert.ok(def, `no $defs entry for ${kind} ${type}`);
        assert.equal(((def.properties as Record<string, Schema>).type as Schema).const, type);
      }
    }
    assert.ok(defs.health_check);
  });

  it('carries documented defaults for editors', () => {
    const hc = (nodesSchema.$defs as Record<string, Schema>).health_check?.properties as Record<string, Schema>;
    assert.equal(hc.timeout?.default, 600);
    assert.equal(hc.ping?.default, true);
  });

  for (const example of exampleFiles()) {
    it(`validates the ${example.name} example files`, () => {
      assert.deepEqual(validate(infraSchema, loadYamlFile(example.infra).value, infraSchema), []);
      assert.deepEqual(validate(nodesSchema, loadYamlFile(example.nodes).value, nodesSchema), []);
    });
  }

  it('rejects what the checkers reject (so the validation above means something)', () => {
    const infra = { infra_name: 'bad_name', user_id: 'u', nodes: [{ name: 'a', type: 't', scaling: { min: -1 } }], extra: 1 };
    assert.equal(validate(infraSchema, infra, infraSchema).length, 3);
    const nodes = {
      'node_def:a': [{ resource: { type: 'docker', endpoint: 'e', origin: 'o', image: 'i', tag: 't', flavor_name: 1 } }],
      'node_def:b': [{ resource: { type: 'ecc2' } }],
      other: [],
    };
    const errors = validate(nodesSchema, nodes, nodesSchema);
    assert.ok(errors.some((e) => e.startsWith('$.node_def:a[0].resource')));
    assert.ok(errors.some((e) => e.startsWith('$.node_def:b[0].resource')));
    assert.ok(errors.some((e) => e.startsWith('$.other')));
  });
});
