/**
 * Small zod building blocks shared by the section schemas (drivers, config managers,
 * contextualisation, health check). It imports only zod, so a schema module never pulls in a cloud
 * SDK.
 *
 * Every `error` here is a predicate phrase ("must be ...") because the checkers print it after the
 * field name: `node 'web': scaling.min must be a non-negative integer`.
 */
import { z } from 'zod';

export function text(what = 'a string') {
  return z.string({ error: `must be ${what}` });
}

export function nonEmptyText(what = 'a non-empty string') {
  return z.string({ error: `must be ${what}` }).min(1, { error: `must be ${what}` });
}

/** Identifiers that YAML may read as numbers (`flavor_name: 3`, an all-digit project id). */
export function idValue() {
  return z.union([z.string(), z.number()], { error: 'must be a string or a number' });
}

export function flag() {
  return z.boolean({ error: 'must be true or false' });
}

/** A free-form mapping: its own keys are not checked. */
export function mapping(what = 'a mapping') {
  return z.record(z.string(), z.unknown(), { error: `must be ${what}` });
}

/** A list whose items are not checked (chef `run_list`, puppet lists). */
export function anyList(what = 'a list') {
  return z.array(z.unknown(), { error: `must be ${what}` });
}

export function stringList(what = 'a list of strings') {
  return z.array(z.string({ error: 'must be a string' }), { error: `must be ${what}` });
}

export function idList(what = 'a list of names or ids') {
  return z.array(idValue(), { error: `must be ${what}` });
}

export function nonNegativeInteger() {
  const msg = 'must be a non-negative integer';
  return z.number({ error: msg }).int({ error: msg }).min(0, { error: msg });
}

export function positiveInteger() {
  const msg = 'must be a positive integer';
  return z.number({ error: msg }).int({ error: msg }).min(1, { error: msg });
}

/** Seconds; `z.number` already refuses booleans, so `timeout: true` is an error (formats §10.8). */
export function positiveSeconds() {
  const msg = 'must be a positive number of seconds';
  return z.number({ error: msg }).positive({ error: msg });
}

export function nonNegativeSeconds() {
  const msg = 'must be a non-negative number of seconds';
  return z.number({ error: msg }).min(0, { error: msg });
}

export function port() {
  const msg = 'must be a port number (an integer from 1 to 65535)';
  return z.number({ error: msg }).int({ error: msg }).min(1, { error: msg }).max(65535, { error: msg });
}

/** A number, or a string for values users commonly write as text or as a template. */
export function numberOrText(what = 'a number or a string') {
  return z.union([z.number(), z.string()], { error: `must be ${what}` });
}
