/**
 * How values cross the store boundary, shared by every backend so that they agree exactly: values
 * travel as JSON (so a memory store refuses what a database could not keep, and never hands out a
 * reference to what it stores), and an instance patch touches only the mutable fields.
 */
import { StoreError } from '../errors.js';
import type { InstanceRecord } from './store.js';

/** JSON text of `value`; a StoreError naming `what` when it is not representable as JSON. */
export function toJsonText(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    // BigInt values and cycles end up here.
    throw new StoreError(`Cannot store ${what}: it is not representable as JSON (${(e as Error).message})`, e);
  }
  if (text === undefined) throw new StoreError(`Cannot store ${what}: it is not representable as JSON`);
  return text;
}

/** Parses text the store wrote; a StoreError if it was damaged outside occopus. */
export function fromJsonText<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new StoreError(`Stored ${what} is damaged (not valid JSON)`, e);
  }
}

/** A deep copy that shares nothing with `value`, exactly as a JSON store would give it back. */
export function jsonCopy<T>(value: T, what: string): T {
  return fromJsonText<T>(toJsonText(value, what), what);
}

export type InstancePatch = Partial<Omit<InstanceRecord, 'node_id' | 'infra_id'>>;

const PATCHABLE = [
  'node_name',
  'lifecycle',
  'resource_type',
  'instance_id',
  'instance_start_time',
  'created_at',
  'data',
] as const satisfies readonly (keyof InstancePatch)[];

/**
 * The record with `patch` applied. Keys set to `undefined` are left alone (so callers can spread
 * optional values); the identity fields cannot be changed even by a cast. Shares nothing with
 * either argument.
 */
export function applyInstancePatch(record: InstanceRecord, patch: InstancePatch): InstanceRecord {
  const next: InstanceRecord = jsonCopy(record, 'instance record');
  const p = jsonCopy(patch, `patch of instance ${record.node_id}`) as Record<string, unknown>;
  const target = next as unknown as Record<string, unknown>;
  for (const key of PATCHABLE) {
    if (key in p) target[key] = p[key];
  }
  return next;
}
