/**
 * Scaling arithmetic of one node for one pass (runtime §3.4–3.5), done right: every request is
 * taken from the store exactly once (atomically) and folded into a stored target, so a destroy
 * request can never be counted twice (runtime §10.11); what was clamped or ignored is reported
 * (§10.12); addresses are matched exactly, IPv6 included (§10.13).
 */
import { isIP } from 'node:net';
import type { ScalingSpec } from '../descriptors/types.js';
import type { ScalingRequest } from '../store/store.js';
import { clampTarget, effectiveScaling } from '../compiler/scaling.js';

export interface ExistingInstance {
  node_id: string;
  /** Every address of the instance (public and private). */
  addresses: string[];
  /** Epoch seconds the instance was started (`simple` drops the youngest). */
  start_time: number;
}

export interface ScalingInput {
  node: { name: string; scaling?: ScalingSpec };
  existing: ExistingInstance[];
  /** Target stored by an earlier pass, or null. */
  storedTarget: number | null;
  /** This node's requests, oldest first. */
  requests: ScalingRequest[];
}

export interface ScalingDecision {
  /** Instance count this node must have after the pass. */
  target: number;
  /** Node ids a request asked to drop, within what the target allows. */
  namedDrops: string[];
  /** What the user should know: clamping, unknown instances, ignored requests. */
  notes: string[];
  /** Whether requests changed the target. */
  changed: boolean;
}

function normaliseAddress(a: string): string {
  return isIP(a) === 6 ? a.toLowerCase().replace(/^\[|\]$/g, '') : a;
}

/**
 * Applies the node's requests one after another, each clamped into [min, max] as it comes, the way
 * a user who sent them one by one would expect: "+1" at the maximum is refused, a later named drop
 * still happens. A named drop that would go below the minimum is refused, not deferred.
 */
export function decideScaling(input: ScalingInput): ScalingDecision {
  const { node, existing, requests } = input;
  const limits = effectiveScaling(node);
  const start = clampTarget(input.storedTarget ?? limits.min, limits);
  const notes: string[] = [];
  const namedDrops: string[] = [];
  let target = start;
  const setTarget = (wanted: number): void => {
    if (wanted > limits.max) notes.push(`node '${node.name}': ${wanted} instances requested, maximum is ${limits.max}: scaled to ${limits.max}`);
    if (wanted < limits.min) notes.push(`node '${node.name}': ${wanted} instances requested, minimum is ${limits.min}: scaled to ${limits.min}`);
    target = clampTarget(wanted, limits);
  };

  for (const request of requests) {
    switch (request.kind) {
      case 'create':
        setTarget(target + request.count);
        break;
      case 'target':
        setTarget(request.count);
        break;
      case 'destroy': {
        if (request.selector === null) {
          setTarget(target - 1);
          break;
        }
        const selector = normaliseAddress(request.selector.trim());
        const match = existing.find(
          (i) => i.node_id === selector || i.addresses.some((a) => normaliseAddress(a) === selector),
        );
        if (!match) {
          notes.push(`no instance of node '${node.name}' has id or address '${request.selector}': request ignored`);
        } else if (namedDrops.includes(match.node_id)) {
          notes.push(`instance ${match.node_id} of node '${node.name}' was named twice: counted once`);
        } else if (target - 1 < limits.min) {
          notes.push(`node '${node.name}': instance ${match.node_id} kept to respect the minimum of ${limits.min}`);
        } else {
          namedDrops.push(match.node_id);
          target -= 1;
        }
        break;
      }
    }
  }
  return { target, namedDrops, notes, changed: requests.length > 0 && target !== start };
}

export type DownscaleStrategy = 'simple' | 'random';

/**
 * Instances to drop: the named ones first, then by strategy: `simple` takes the youngest,
 * `random` a uniform sample.
 */
export function selectInstancesToDrop(
  existing: ExistingInstance[],
  count: number,
  namedDrops: string[],
  strategy: DownscaleStrategy,
  random: () => number = Math.random,
): string[] {
  const chosen = namedDrops.filter((id) => existing.some((i) => i.node_id === id)).slice(0, count);
  const rest = existing.filter((i) => !chosen.includes(i.node_id));
  const more = count - chosen.length;
  if (more <= 0) return chosen;
  if (strategy === 'random') {
    const pool = [...rest];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [pool[i], pool[j]] = [pool[j] as ExistingInstance, pool[i] as ExistingInstance];
    }
    return [...chosen, ...pool.slice(0, more).map((i) => i.node_id)];
  }
  const youngestFirst = [...rest].sort((a, b) => b.start_time - a.start_time);
  return [...chosen, ...youngestFirst.slice(0, more).map((i) => i.node_id)];
}
