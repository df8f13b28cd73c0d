/**
 * The infrastructure report: Occopus's REST shape (runtime §8.3: per node, instances with
 * `resource_address` and `state`, and the scaling figures), plus when it was observed.
 */
import type { StaticDescription } from '../compiler/types.js';
import type { InstanceRecord } from '../store/store.js';
import type { Observation } from '../infraprocessor/observe.js';
import { allAddresses, instanceData } from '../infraprocessor/instance.js';
import { clampTarget, effectiveScaling } from '../compiler/scaling.js';

export interface InstanceReport {
  resource_address: string | string[] | null;
  state: string;
  /** Why it is not ready, when it is not. */
  details?: string[];
}

export interface NodeReport {
  instances: Record<string, InstanceReport>;
  scaling: { actual: number; target: number; min: number; max: number };
}

export interface InfraReport {
  infra_id: string;
  infra_name: string;
  /** Epoch milliseconds of the observation. */
  observed_at: number;
  nodes: Record<string, NodeReport>;
}

export function buildReport(
  description: StaticDescription,
  records: InstanceRecord[],
  observations: Map<string, Observation>,
  targets: Record<string, number>,
  now: number,
): InfraReport {
  const nodes: Record<string, NodeReport> = {};
  const names = new Set([...description.nodes.map((n) => n.name), ...records.map((r) => r.node_name)]);
  for (const name of names) {
    const node = description.nodes.find((n) => n.name === name);
    const limits = node ? effectiveScaling(node) : { min: 0, max: 0 };
    const mine = records.filter((r) => r.node_name === name && r.lifecycle !== 'dropping');
    const instances: Record<string, InstanceReport> = {};
    for (const r of mine) {
      const o = observations.get(r.node_id);
      const addresses = allAddresses(o?.addresses ?? instanceData(r).addresses);
      instances[r.node_id] = {
        resource_address: addresses.length === 0 ? null : addresses.length === 1 ? (addresses[0] as string) : addresses,
        state: o?.state ?? 'pending',
        ...(o && o.details.length && o.state !== 'ready' ? { details: o.details } : {}),
      };
    }
    nodes[name] = {
      instances,
      scaling: {
        actual: mine.length,
        target: node ? clampTarget(targets[name] ?? limits.min, limits) : 0,
        min: limits.min,
        max: limits.max,
      },
    };
  }
  return { infra_id: description.infra_id, infra_name: description.name, observed_at: now, nodes };
}
