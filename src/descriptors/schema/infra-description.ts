/**
 * Schema check of an infrastructure description (formats §1.1–1.4, §1.7, with the fixes of §10):
 * every problem is collected and reported at once, each with its position in the file.
 */
import { z } from 'zod';
import type { SchemaIssue } from '../../errors.js';
import { mapping, nonEmptyText, nonNegativeInteger, positiveSeconds } from '../../drivers/schema-kit.js';
import type { LoadedDocument } from '../load.js';
import type { InfraDescription } from '../types.js';
import { isValidName, nameSchema } from './name.js';
import { describeProblem, findProblems, issuePath, isMapping, type Path, type Problem } from './problems.js';
import { toSchemaError } from './report.js';

const scalingSchema = z.strictObject(
  { min: nonNegativeInteger().optional(), max: nonNegativeInteger().optional() },
  { error: 'must be a mapping with min and/or max' },
);

export const infraNodeEntrySchema = z.strictObject(
  {
    name: nameSchema,
    type: nonEmptyText("a non-empty string (the <type> of a 'node_def:<type>' node definition)"),
    scaling: scalingSchema.optional(),
    filter: mapping().optional(),
    variables: mapping().optional(),
    create_timeout: positiveSeconds().optional(),
    attributes: mapping().optional(),
  },
  { error: 'must be a mapping (a node entry with name and type)' },
);

/** A dependency end: a node entry (normally an alias like `*A`) or a node name (our extension). */
const nodeRef = z.union([z.record(z.string(), z.unknown()), z.string()], {
  error: 'must be a node entry (an alias like *A) or a node name',
});

const connection = z.tuple([nodeRef, nodeRef], { error: 'must be a list of exactly 2 nodes [dependent, dependee]' });

const attributePair = z.tuple([z.string({ error: 'must be a string' }), z.string({ error: 'must be a string' })], {
  error: 'must be a list of exactly 2 attribute names [source, destination]',
});

const attributeMapping = z.union(
  [
    attributePair,
    z.looseObject(
      { attributes: attributePair, synch: z.boolean({ error: 'must be true or false' }).optional() },
      { error: 'must be a mapping' },
    ),
  ],
  { error: 'must be a list [source, destination] or a mapping with attributes' },
);

const dependencySchema = z.union(
  [
    connection,
    z.looseObject(
      {
        connection,
        mappings: z.array(attributeMapping, { error: 'must be a list of attribute mappings' }).optional(),
      },
      { error: 'must be a mapping' },
    ),
  ],
  { error: "must be a list [dependent, dependee] or a mapping with 'connection'" },
);

export const infraDescriptionSchema = z.strictObject(
  {
    infra_name: nameSchema,
    user_id: z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string (or another scalar)' }),
    nodes: z.array(infraNodeEntrySchema, { error: 'must be a list of node entries' }),
    dependencies: z.array(dependencySchema, { error: 'must be a list of dependencies' }).optional(),
    variables: mapping().optional(),
  },
  { error: 'must be a mapping with infra_name, user_id and nodes' },
);

// Keep the schema and the hand-written type in step.
type Assignable<T, U> = [T] extends [U] ? true : never;
const schemaMatchesType: Assignable<z.infer<typeof infraDescriptionSchema>, InfraDescription> = true;
void schemaMatchesType;

/** Keys Occopus reads but never lets users set (formats §10.2): say why instead of "unknown". */
const refusedTopLevelKeys: Record<string, string> = {
  infra_id:
    "'infra_id' cannot be set in the file: the infrastructure id is given on the command line with -i " +
    '(occopus-build -i <id>)',
  init_suspended: "'init_suspended' is not supported",
  userinfo_strategy: "'userinfo_strategy' is not supported",
};

const refusedNodeKeys: Record<string, string> = {
  backend_selection_strategy:
    "'backend_selection_strategy' is not supported: an implementation is picked at random among those matching 'filter'",
};

const TOP = 'infrastructure description';

export function checkInfraDescription(doc: LoadedDocument): { value: InfraDescription; warnings: string[] } {
  const root = doc.value;
  const issues: SchemaIssue[] = [];
  if (root === null || root === undefined) {
    issues.push({ path: [], message: `${TOP} is empty: expected a mapping with infra_name, user_id and nodes` });
    throw toSchemaError(issues, doc);
  }
  for (const p of findProblems(infraDescriptionSchema, root)) {
    const { prefix, field } = whereIs(p.path, root);
    for (const { path, message } of explain(p, field)) issues.push({ path, message: `${prefix}: ${message}` });
  }
  if (issues.length > 0) throw toSchemaError(issues, doc);

  // Validated above: the user's own objects are returned, so YAML aliases keep their identity.
  const value = root as InfraDescription;
  const warnings: string[] = [];
  if (value.dependencies === undefined && value.nodes.length > 1) {
    warnings.push('no dependencies specified - nodes are built in list order');
  }
  return { value, warnings };
}

/** Unknown keys that Occopus users might expect to work get a message of their own. */
function explain(p: Problem, field: Path): { path: Path; message: string }[] {
  const refused = p.kind === 'unknown' ? refusedKeysAt(p.path) : undefined;
  if (!refused) return [{ path: issuePath(p), message: describeProblem(p, field) }];
  const out: { path: Path; message: string }[] = [];
  const rest = p.keys.filter((k) => !Object.hasOwn(refused, k));
  if (rest.length > 0) out.push({ path: issuePath({ ...p, keys: rest }), message: describeProblem({ ...p, keys: rest }, field) });
  for (const k of p.keys) {
    const why = Object.hasOwn(refused, k) ? refused[k] : undefined;
    if (why) out.push({ path: [...p.path, k], message: why });
  }
  return out;
}

function refusedKeysAt(path: Path): Record<string, string> | undefined {
  if (path.length === 0) return refusedTopLevelKeys;
  if (path.length === 2 && path[0] === 'nodes' && typeof path[1] === 'number') return refusedNodeKeys;
  return undefined;
}

/** Problems inside a node entry are reported against the node, by name when it has a valid one. */
function whereIs(path: Path, root: unknown): { prefix: string; field: Path } {
  const [first, index] = path;
  if (first === 'nodes' && typeof index === 'number' && isMapping(root) && Array.isArray(root.nodes)) {
    const entry: unknown = root.nodes[index];
    const name = isMapping(entry) ? entry.name : undefined;
    return { prefix: isValidName(name) ? `node '${name}'` : `nodes[${index}]`, field: path.slice(2) };
  }
  return { prefix: TOP, field: path };
}
