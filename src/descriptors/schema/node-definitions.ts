/**
 * Schema check of a node-definition file (formats §3, with the fixes of §10): keys `node_def:<type>`,
 * each a list of implementations whose sections are checked by the schema of their `type`.
 * Every problem is collected and reported at once, each with its position in the file.
 */
import { z } from 'zod';
import type { SchemaIssue } from '../../errors.js';
import { configManagerTypeInfo, configManagerTypes, resourceTypeInfo, resourceTypes } from '../../drivers/registry.js';
import { positiveSeconds } from '../../drivers/schema-kit.js';
import { healthCheckSchema } from '../../health/schema.js';
import { contextualisationTypeInfo, contextualisationTypes } from '../../resolution/contextualisation/registry.js';
import type { LoadedDocument } from '../load.js';
import type { NodeDefinition, NodeDefinitionFile } from '../types.js';
import { describeProblem, findProblems, issuePath, isMapping, type Path } from './problems.js';
import { toSchemaError } from './report.js';

export const NODE_DEF_PREFIX = 'node_def:';

const section = () => z.looseObject({}, { error: 'must be a mapping' });

const implementationSchema = z.strictObject(
  {
    resource: section(),
    contextualisation: section().optional(),
    config_management: section().optional(),
    health_check: section().optional(),
    create_timeout: positiveSeconds().optional(),
  },
  { error: 'must be a mapping with a resource section' },
);

const SECTIONS = Object.keys(implementationSchema.shape);

interface TypedSection {
  label: string;
  lookup: (type: unknown) => { schema: z.ZodType } | undefined;
  known: readonly string[];
}

const typedSections: Record<string, TypedSection> = {
  resource: { label: 'resource', lookup: resourceTypeInfo, known: Object.keys(resourceTypes) },
  contextualisation: {
    label: 'contextualisation',
    lookup: contextualisationTypeInfo,
    known: Object.keys(contextualisationTypes),
  },
  config_management: {
    label: 'config_management',
    lookup: configManagerTypeInfo,
    known: Object.keys(configManagerTypes),
  },
};

interface Finding {
  path: Path;
  message: string;
}

export function checkNodeDefinitionFile(doc: LoadedDocument): { value: NodeDefinitionFile; warnings: string[] } {
  const root = doc.value;
  const issues: SchemaIssue[] = [];
  const warnings: string[] = [];
  const add = (base: Path, prefix: string, findings: Finding[]) => {
    for (const f of findings) issues.push({ path: [...base, ...f.path], message: `${prefix}: ${f.message}` });
  };

  if (!isMapping(root)) {
    const what = root === null || root === undefined ? 'is empty' : 'is not a mapping';
    issues.push({ path: [], message: `node-definition file ${what}: expected 'node_def:<type>' keys, each with a list of implementations` });
    throw toSchemaError(issues, doc);
  }

  const entries: [string, NodeDefinition[]][] = [];
  for (const [key, list] of Object.entries(root)) {
    if (!key.startsWith(NODE_DEF_PREFIX)) {
      add([key], `node '${key}'`, [{ path: [], message: "Node definition key must have the form 'node_def:<type>'" }]);
      continue;
    }
    const type = key.slice(NODE_DEF_PREFIX.length);
    if (type === '') {
      add([key], `node '${key}'`, [{ path: [], message: "the node type after 'node_def:' must not be empty" }]);
      continue;
    }
    if (!Array.isArray(list)) {
      add([key], `node '${type}'`, [{ path: [], message: 'Node definition must be a list of implementations (mappings)' }]);
      continue;
    }
    if (list.length === 0) warnings.push(`node '${type}' has no implementations: nodes of this type cannot be created`);
    list.forEach((impl: unknown, i) => {
      for (const { section: name, prefix, findings } of checkImplementation(type, i, impl)) {
        add([key, i, ...(name ? [name] : [])], prefix, findings);
      }
    });
    entries.push([type, list as NodeDefinition[]]);
  }

  if (issues.length > 0) throw toSchemaError(issues, doc);
  // Validated above: the lists are the user's own objects, never copies with defaults filled in.
  return { value: Object.fromEntries(entries), warnings };
}

function checkImplementation(
  type: string,
  index: number,
  impl: unknown,
): { section: string | undefined; prefix: string; findings: Finding[] }[] {
  const out: { section: string | undefined; prefix: string; findings: Finding[] }[] = [];
  const own: Finding[] = findProblems(implementationSchema, impl).map((p) => {
    if (p.path.length === 0 && p.kind === 'unknown') {
      return { path: [], message: `Unknown section(s): ${p.keys.join(', ')} (allowed: ${SECTIONS.join(', ')})` };
    }
    if (p.path.length === 0 && p.kind === 'missing') {
      return { path: [], message: `Missing section(s): ${p.keys.join(', ')}` };
    }
    return { path: issuePath(p), message: describeProblem(p, p.path) };
  });
  if (own.length > 0) out.push({ section: undefined, prefix: `node '${type}'[${index}]`, findings: own });
  if (!isMapping(impl)) return out;

  for (const name of ['resource', 'contextualisation', 'config_management', 'health_check']) {
    const value = impl[name];
    if (!isMapping(value)) continue; // absent, or already reported as not a mapping
    const typed = typedSections[name];
    const findings = typed ? checkTypedSection(value, typed) : checkWith(healthCheckSchema, value);
    if (findings.length > 0) out.push({ section: name, prefix: `'${name}' section of node '${type}'[${index}]`, findings });
  }
  return out;
}

/** A section whose `type` picks its schema; an unknown type is one clear error, not a union dump. */
function checkTypedSection(value: Record<string, unknown>, typed: TypedSection): Finding[] {
  if (!Object.hasOwn(value, 'type')) return [{ path: [], message: 'Missing key(s): type' }];
  const info = typed.lookup(value.type);
  if (!info) {
    const known = typed.known.join(', ');
    const message =
      typeof value.type === 'string'
        ? `Unknown ${typed.label} type '${value.type}' (known: ${known})`
        : `type must be a string, one of: ${known}`;
    return [{ path: ['type'], message }];
  }
  return checkWith(info.schema, value);
}

function checkWith(schema: z.ZodType, value: unknown): Finding[] {
  return findProblems(schema, value).map((p) => ({ path: issuePath(p), message: describeProblem(p, p.path) }));
}
