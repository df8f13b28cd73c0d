/** `occopus-import`: check a node-definition file and store it (all or nothing). */
import { loadYamlFile } from '../descriptors/load.js';
import { checkNodeDefinitionFile } from '../descriptors/schema/node-definitions.js';
import type { NodeDefinitionFile } from '../descriptors/types.js';
import type { Store } from '../store/store.js';

export interface ImportResult {
  file: string;
  /** Node types imported, in file order. Each replaced any earlier list of that type. */
  types: string[];
  warnings: string[];
}

/** Loads and schema-checks a node-definition file without storing it. */
export function readNodeDefinitionFile(path: string): { file: string; definitions: NodeDefinitionFile; warnings: string[] } {
  const doc = loadYamlFile(path);
  const { value, warnings } = checkNodeDefinitionFile(doc);
  return { file: doc.file, definitions: value, warnings };
}

export async function importNodeDefinitions(path: string, store: Store): Promise<ImportResult> {
  const { file, definitions, warnings } = readNodeDefinitionFile(path);
  // Everything is checked before the first write; the store applies the whole file in one transaction.
  await store.importNodeDefinitions(definitions);
  return { file, types: Object.keys(definitions), warnings };
}
