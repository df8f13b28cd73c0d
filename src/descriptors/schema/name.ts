/**
 * The name rule for `infra_name` and node names (formats §1.3, done right): 1 to 63 ASCII letters,
 * digits or hyphens. Unlike Occopus, a trailing newline, non-ASCII letters and 64 characters fail,
 * and a non-string is a schema error, not a crash.
 */
import { z } from 'zod';

export const NAME_PATTERN = /^[A-Za-z0-9-]{1,63}$/;

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

/** Why `value` is not a valid name, as a predicate phrase; undefined when it is valid. */
export function nameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > 63) return `${JSON.stringify(value)} is too long (${value.length} characters, at most 63)`;
  if (!NAME_PATTERN.test(value)) return `${JSON.stringify(value)} may contain only the letters A-Z and a-z, digits and '-'`;
  return undefined;
}

export const nameSchema = z
  .string({ error: 'must be a string' })
  .regex(NAME_PATTERN, { error: (issue) => nameProblem(issue.input) ?? 'is not a valid name' });
