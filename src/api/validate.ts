/**
 * `occopus validate`: a dry run of an infrastructure description. Schema check, compile, and resolve
 * every implementation of every node with placeholder addresses. Nothing is created and nothing is
 * written to the store.
 */
import { loadYamlFile, type LoadedDocument } from '../descriptors/load.js';
import { checkInfraDescription } from '../descriptors/schema/infra-description.js';
import type { NodeDefinition, NodeDefinitionFile } from '../descriptors/types.js';
import { compile } from '../compiler/compile.js';
import { effectiveScaling } from '../compiler/scaling.js';
import type { NodeDescription, StaticDescription } from '../compiler/types.js';
import { matchesFilter, selectImplementation } from '../resolution/select.js';
import { resolveNode, type AddressLookup, type InstanceAddresses, type ResolvedNode } from '../resolution/resolve.js';
import { OccopusError, isOccopusError } from '../errors.js';
import type { Store } from '../store/store.js';

/** The compiled description of a parsed infrastructure file, with its warnings. */
export interface CompiledInfrastructure {
  file: string;
  description: StaticDescription;
  warnings: string[];
}

export function compileInfrastructureFile(path: string, infraId?: string): CompiledInfrastructure {
  return compileInfrastructureDocument(loadYamlFile(path), infraId);
}

/** The same for a document parsed elsewhere (the REST service parses request bodies without imports). */
export function compileInfrastructureDocument(doc: LoadedDocument, infraId?: string): CompiledInfrastructure {
  const { value, warnings } = checkInfraDescription(doc);
  const description = compile(value, { locate: (p) => doc.locate(p), ...(infraId ? { infraId } : {}) });
  return { file: doc.file, description, warnings };
}

export interface ValidatedImplementation {
  /** Index of the implementation in the node type's list. */
  index: number;
  resource_type: string;
  resolved: ResolvedNode;
}

export interface ValidatedNode {
  name: string;
  type: string;
  level: number;
  scaling: { min: number; max: number };
  implementations: ValidatedImplementation[];
}

export interface ValidationReport {
  file: string;
  infra_name: string;
  user_id: string;
  levels: string[][];
  nodes: ValidatedNode[];
  warnings: string[];
}

export interface ValidateOptions {
  /** Node definitions from a file (`--nodes`); otherwise they are read from the store. */
  definitions?: NodeDefinitionFile;
  store?: Store;
  /** Whether templates may call `cmd()` (config `templates.allow_cmd`). */
  allowCmd: boolean;
}

/** Documentation addresses (RFC 5737), so nothing rendered during validation can reach a real host. */
function placeholderAddresses(index: number): InstanceAddresses {
  return { public: [`192.0.2.${index + 1}`], private: [`198.51.100.${index + 1}`] };
}

export async function validateInfrastructureFile(path: string, options: ValidateOptions): Promise<ValidationReport> {
  return validateCompiledInfrastructure(compileInfrastructureFile(path), options);
}

/** The dry run on an already compiled description (e.g. a REST request body). */
export async function validateCompiledInfrastructure(compiled: CompiledInfrastructure, options: ValidateOptions): Promise<ValidationReport> {
  const { file, description, warnings } = compiled;
  const levelOf = new Map<string, number>();
  description.topological_order.forEach((level, i) => level.forEach((name) => levelOf.set(name, i)));
  const indexOf = new Map(description.nodes.map((n, i) => [n.name, i]));

  const nodes: ValidatedNode[] = [];
  for (const node of description.nodes) {
    const level = levelOf.get(node.name) ?? 0;
    const definitions = await definitionsOf(node, options);
    const candidates = definitions
      .map((definition, index) => ({ definition, index }))
      .filter(({ definition }) => !node.filter || matchesFilter(definition.resource, node.filter));
    if (candidates.length === 0) selectImplementation(definitions, node); // throws the precise error

    const lookup: AddressLookup = {
      instancesOf(name) {
        if (!name) return description.nodes.map((_, i) => placeholderAddresses(i));
        const i = indexOf.get(name);
        if (i === undefined) return [];
        if ((levelOf.get(name) ?? 0) >= level) {
          warnings.push(
            `node '${node.name}' uses the address of '${name}' but does not depend on it: ` +
              `'${name}' may not exist yet when '${node.name}' is created (add a dependency)`,
          );
        }
        return [placeholderAddresses(i)];
      },
    };
    const implementations = candidates.map(({ definition, index }) => ({
      index,
      resource_type: definition.resource.type,
      resolved: resolveOrExplain(node, definition, index, lookup, options.allowCmd, warnings),
    }));
    nodes.push({ name: node.name, type: node.type, level, scaling: effectiveScaling(node), implementations });
  }
  return {
    file,
    infra_name: description.name,
    user_id: description.user_id,
    levels: description.topological_order,
    nodes,
    warnings: [...new Set(warnings)],
  };
}

async function definitionsOf(node: NodeDescription, options: ValidateOptions): Promise<NodeDefinition[]> {
  if (options.definitions) return options.definitions[node.type] ?? [];
  if (options.store) return options.store.getNodeDefinitions(node.type);
  return [];
}

function resolveOrExplain(
  node: NodeDescription,
  definition: NodeDefinition,
  index: number,
  lookup: AddressLookup,
  allowCmd: boolean,
  warnings: string[],
): ResolvedNode {
  try {
    return resolveNode({
      nodeId: '00000000-0000-4000-8000-000000000000',
      node,
      definition,
      lookup,
      allowCmd,
      warn: (m) => warnings.push(`node '${node.name}': ${m}`),
    });
  } catch (e) {
    if (!isOccopusError(e)) throw e;
    throw new OccopusError(e.code, `node '${node.name}' (type '${node.type}'[${index}]): ${e.message}`, {
      ...(e.location ? { location: e.location } : {}),
      cause: e,
    });
  }
}
