import type { InfraDescription, InfraNodeEntry, RawDependency } from '../../../src/descriptors/types.js';

export function entry(name: string, extra: Partial<InfraNodeEntry> = {}): InfraNodeEntry {
  return { name, type: `${name}_type`, ...extra };
}

/** An infra description as the YAML loader would give it; dependencies hold the entries themselves. */
export function infra(nodes: InfraNodeEntry[], dependencies?: RawDependency[], extra: Partial<InfraDescription> = {}): InfraDescription {
  return { infra_name: 'test-infra', user_id: 'someone@example.org', nodes, ...(dependencies ? { dependencies } : {}), ...extra };
}
