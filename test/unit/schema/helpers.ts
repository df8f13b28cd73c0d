import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseYamlText, type LoadedDocument } from '../../../src/descriptors/load.js';
import { SchemaError, type SourceLocation } from '../../../src/errors.js';

/** A document parsed by the real loader, so issue locations are real positions. */
export function yamlDoc(text: string): LoadedDocument {
  return parseYamlText(text, { file: 'test.yaml', allowImports: false });
}

/**
 * A document built in code; `locate` reports a fake position that encodes the path it was asked for
 * (all on one line, so the checker's own order of issues is kept).
 */
export function fakeDoc(value: unknown): LoadedDocument & { asked: (string | number)[][] } {
  const asked: (string | number)[][] = [];
  return {
    file: 'fake.yaml',
    value,
    asked,
    locate(path) {
      asked.push([...path]);
      return fakeLocation(path);
    },
  };
}

export function fakeLocation(path: readonly (string | number)[]): SourceLocation {
  return { file: `fake.yaml#${path.join('/')}`, line: 1, column: 1 };
}

/** The SchemaError `fn` throws (fails the test if it throws anything else, or nothing). */
export function schemaErrorOf(fn: () => unknown): SchemaError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SchemaError, `expected a SchemaError, got ${caught === undefined ? 'no error' : String(caught)}`);
  assert.equal(caught.code, 'E_SCHEMA');
  return caught;
}

export function messagesOf(fn: () => unknown): string[] {
  return schemaErrorOf(fn).issues.map((i) => i.message);
}

/** Asserts that some message contains every one of `parts`. */
export function assertSomeMessage(messages: readonly string[], ...parts: string[]): void {
  assert.ok(
    messages.some((m) => parts.every((p) => m.includes(p))),
    `no message contains ${JSON.stringify(parts)}; got:\n  ${messages.join('\n  ')}`,
  );
}

/** Real Occopus user files, kept next to the repository; they must pass unchanged. */
export const examplesDir = resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'examples');

export function exampleFiles(): { name: string; infra: string; nodes: string }[] {
  return readdirSync(examplesDir).map((name) => {
    const dir = join(examplesDir, name);
    const infra = readdirSync(dir).find((f) => f.startsWith('infra-') && f.endsWith('.yaml'));
    assert.ok(infra, `no infra-*.yaml in ${dir}`);
    return { name, infra: join(dir, infra), nodes: join(dir, 'nodes', 'node_definitions.yaml') };
  });
}
