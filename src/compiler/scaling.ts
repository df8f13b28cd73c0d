/**
 * Scaling limits (formats §1.6, runtime §3.4). Nothing is injected at compile time: the enactor
 * applies these to the user's `scaling` whenever it computes a target count.
 */
import type { ScalingSpec } from '../descriptors/types.js';

export interface ScalingLimits {
  min: number;
  max: number;
}

/** `min: 0` means 1, `max < min` means `max = min`, and no `scaling` means exactly one instance. */
export function effectiveScaling(node: { scaling?: ScalingSpec }): ScalingLimits {
  const min = Math.max(node.scaling?.min ?? 1, 1);
  const max = Math.max(node.scaling?.max ?? min, min);
  return { min, max };
}

/**
 * Occopus's `clamp(x) = min(max(int(x), min), max)`: a fractional target is truncated like Python's
 * `int()`; a target that is not a number at all falls back to the minimum.
 */
export function clampTarget(target: number, s: ScalingLimits): number {
  if (Number.isNaN(target)) return s.min;
  return Math.min(Math.max(Math.trunc(target), s.min), s.max);
}
