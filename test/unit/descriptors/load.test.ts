import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadYamlFile, parseYamlText, type LoadedDocument } from '../../../src/descriptors/load.js';
import { YamlError, type SourceLocation } from '../../../src/errors.js';
import { sharedExamples } from '../../helpers/cli.js';

/** A fresh temp dir; `write` creates a file (and its folders) in it and returns its absolute path. */
function sandbox() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'occopus-load-'));
  return {
    dir,
    write(rel: string, text: string): string {
      const file = path.join(dir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    },
  };
}

const lines = (...ls: string[]) => ls.join('\n') + '\n';

/** Asserts `fn` throws a YamlError at exactly `where`, with a message matching `message`. */
function throwsAt(fn: () => unknown, message: RegExp, where: SourceLocation): YamlError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof YamlError, `expected a YamlError, got ${String(caught)}`);
  assert.equal(caught.code, 'E_YAML');
  assert.match(caught.message, message);
  assert.deepEqual(caught.location, where);
  return caught;
}

const at = (line: number, column: number, file = '<string>'): SourceLocation => ({ file, line, column });

function text(src: string): unknown {
  return parseYamlText(src).value;
}

describe('YAML 1.2 core schema scalars', () => {
  it('keeps YAML 1.1 booleans and dates as strings, reads 0644 as decimal and 0o644 as octal', () => {
    const v = text(
      lines(
        'a: yes', 'b: no', 'c: on', 'd: off', 'e: 0644', 'f: 0o644', 'g: ~', 'h: null', 'i: True', 'j: FALSE',
        'k: 2021-01-01', 'l: 0x1F', 'm: 1e3', 'n: .inf', 'o: "0644"', 'p:',
      ),
    );
    assert.deepEqual(v, {
      a: 'yes', b: 'no', c: 'on', d: 'off', e: 644, f: 420, g: null, h: null, i: true, j: false,
      k: '2021-01-01', l: 31, m: 1000, n: Infinity, o: '0644', p: null,
    });
  });

  it('accepts the core tags written explicitly', () => {
    const v = text(lines('a: !!str 12', 'b: !!int "7"', 'c: !!float 1', 'd: !!bool true', 'e: !!null ~', 'f: !!map {x: 1}', 'g: !!seq [1]'));
    assert.deepEqual(v, { a: '12', b: 7, c: 1, d: true, e: null, f: { x: 1 }, g: [1] });
  });

  it('turns non-string keys into strings and keeps __proto__ as plain data', () => {
    const v = text(lines('1: one', 'true: yes', '__proto__: {polluted: 1}')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(v), ['1', 'true', '__proto__']);
    assert.equal(v['1'], 'one');
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.deepEqual(Object.getOwnPropertyDescriptor(v, '__proto__')?.value, { polluted: 1 });
  });

  it('returns only plain objects and arrays', () => {
    const v = text(lines('a: {b: [1, {c: 2}]}')) as { a: { b: [number, object] } };
    assert.equal(Object.getPrototypeOf(v.a), Object.prototype);
    assert.ok(Array.isArray(v.a.b));
    assert.equal(Object.getPrototypeOf(v.a.b[1]), Object.prototype);
  });
});

describe('anchors, aliases and merge keys', () => {
  it('resolves an alias to the very object of its anchor', () => {
    const v = text(
      lines(
        'nodes:',
        '  - &A {name: a, type: t}',
        '  - &B',
        '    name: b',
        '    type: t',
        'dependencies:',
        '  - [*A, *B]',
        '  - connection: [*B, *A]',
        'again: *A',
      ),
    ) as { nodes: object[]; dependencies: [[object, object], { connection: [object, object] }]; again: object };
    assert.equal(v.dependencies[0][0], v.nodes[0]);
    assert.equal(v.dependencies[0][1], v.nodes[1]);
    assert.equal(v.dependencies[1].connection[0], v.nodes[1]);
    assert.equal(v.again, v.nodes[0]);
    assert.deepEqual(v.nodes[0], { name: 'a', type: 't' });
  });

  it('uses the last anchor of a name defined before the alias', () => {
    const v = text(lines('a: &X 1', 'b: *X', 'c: &X 2', 'd: *X'));
    assert.deepEqual(v, { a: 1, b: 1, c: 2, d: 2 });
  });

  it('merges keys with <<, explicit keys winning wherever they are written', () => {
    const v = text(
      lines(
        'base: &BASE {type: ec2, size: small, region: eu}',
        'node:',
        '  size: large',
        '  <<: *BASE',
        '  region: us',
      ),
    ) as { base: object; node: object };
    assert.deepEqual(v.node, { size: 'large', type: 'ec2', region: 'us' });
    assert.deepEqual(v.base, { type: 'ec2', size: 'small', region: 'eu' }, 'the anchor is not modified');
    assert.notEqual(v.node, v.base);
  });

  it('merges a list of mappings, earlier ones winning', () => {
    const v = text(lines('a: &A {x: 1, y: 1}', 'b: &B {y: 2, z: 2}', 'c: {<<: [*A, *B], w: 0}')) as { c: object };
    assert.deepEqual(v.c, { x: 1, y: 1, z: 2, w: 0 });
  });

  it('treats a quoted "<<" as an ordinary key', () => {
    assert.deepEqual(text(lines('"<<": {a: 1}')), { '<<': { a: 1 } });
  });

  it('refuses an alias to an unknown anchor, a recursive alias and a bad merge value', () => {
    throwsAt(() => text(lines('a: 1', 'b: *nope')), /alias \*nope refers to no anchor/, at(2, 4));
    throwsAt(() => text(lines('a: &A', '  - x', '  - *A')), /recursive/, at(3, 5));
    throwsAt(() => text(lines('a: &A {x: 1, <<: *A}')), /recursive/, at(1, 18));
    throwsAt(() => text(lines('s: &S just-a-string', 'm:', '  <<: *S')), /merge key must be a mapping/, at(3, 7));
  });
});

describe('refused tags', () => {
  const refused: [string, string][] = [
    ['!foo 1', '!foo'],
    ['!ResourceHandler {protocol: ec2}', '!ResourceHandler'],
    ['!python_import [x]', '!python_import'],
    ['!!python/object:os.system {}', '!!python/object:os.system'],
    ['!!python/name:os.system ""', '!!python/name:os.system'],
    ['!!binary aGVsbG8=', '!!binary'],
    ['!!set {a}', '!!set'],
    ['!!omap [a: 1]', '!!omap'],
    ['!!pairs [a: 1]', '!!pairs'],
    ['!!timestamp 2001-12-14', '!!timestamp'],
    ['!!merge x', '!!merge'],
  ];
  for (const [value, tag] of refused) {
    it(`refuses ${tag} at the tag`, () => {
      const err = throwsAt(() => text(lines('ok: 1', `x: ${value}`)), /unsupported YAML tag/, at(2, 4));
      assert.ok(err.message.includes(tag), err.message);
    });
  }

  it('refuses a core tag on a value that does not match it', () => {
    throwsAt(() => text('a: !!int abc\n'), /does not match its YAML tag !!int/, at(1, 4));
    throwsAt(() => text('a: !!bool yes\n'), /!!bool/, at(1, 4));
    throwsAt(() => text('a: !!map [1]\n'), /!!map/, at(1, 4));
  });

  it('refuses the import tags like unknown tags when imports are disabled', () => {
    for (const tag of ['!yaml_import', '!text_import']) {
      throwsAt(
        () => parseYamlText(lines('a: 1', `b: ${tag} {url: file:///etc/passwd}`), { allowImports: false, file: '<request body>' }),
        new RegExp(`${tag} is not allowed here: imports are disabled`),
        at(2, 4, '<request body>'),
      );
    }
  });
});

describe('syntax errors', () => {
  it('reports a syntax error at the library position', () => {
    throwsAt(() => text(lines('a: [1, 2', 'b: 3')), /YAML syntax error/, at(2, 1));
    throwsAt(() => text(lines('a: b: c')), /YAML syntax error/, at(1, 4));
  });

  it('reports a duplicate key, including keys equal only once stringified', () => {
    throwsAt(() => text(lines('a: 1', 'b: 2', 'a: 3')), /duplicate key 'a'/, at(3, 1));
    throwsAt(() => text(lines('x:', '  1: a', '  "1": b')), /duplicate key '1'/, at(3, 3));
  });

  it('refuses a second document', () => {
    throwsAt(() => text(lines('a: 1', '# end', '---', 'b: 2')), /exactly one YAML document/, at(3, 1));
    throwsAt(() => text(lines('a: 1', '---')), /exactly one YAML document/, at(2, 1));
  });

  it('refuses a collection as a mapping key', () => {
    throwsAt(() => text(lines('a: 1', '? [x, y]', ': 2')), /key must be a scalar/, at(2, 3));
  });

  it('names the file in locations when loading from disk', () => {
    const s = sandbox();
    const file = s.write('bad.yaml', lines('a: 1', 'a: 2'));
    throwsAt(() => loadYamlFile(file), /duplicate key/, at(2, 1, file));
  });

  it('reports a missing file without a location', () => {
    const s = sandbox();
    const missing = path.join(s.dir, 'nope.yaml');
    assert.throws(
      () => loadYamlFile(missing),
      (e: unknown) => e instanceof YamlError && e.message.includes(missing) && /no such file/.test(e.message) && e.location === undefined,
    );
  });

  it('loads an empty file as null', () => {
    assert.equal(text(''), null);
    assert.equal(text('# only a comment\n'), null);
  });
});

describe('!yaml_import and !text_import', () => {
  it('imports YAML relative to the including file, nested imports relative to the imported one', () => {
    const s = sandbox();
    s.write('nodes/cloud_init.yaml', lines('#cloud-config', 'write_files:', '  - path: /tmp/x', '    content: !text_import {url: file://scripts/run.sh}'));
    s.write('nodes/scripts/run.sh', '#!/bin/sh\r\necho hi\r\n');
    const defs = s.write(
      'nodes/node_definitions.yaml',
      lines(
        "'node_def:n':",
        '  - contextualisation:',
        '      type: cloudinit',
        '      context_template: !yaml_import',
        '        url: file://cloud_init.yaml',
        '        comment: extra keys are ignored',
      ),
    );
    const v = loadYamlFile(defs).value as Record<string, [{ contextualisation: { context_template: unknown } }]>;
    assert.deepEqual(v['node_def:n']?.[0].contextualisation.context_template, {
      write_files: [{ path: '/tmp/x', content: '#!/bin/sh\necho hi\n' }],
    });
  });

  it('reads absolute file:/// paths as absolute', () => {
    const s = sandbox();
    const abs = s.write('elsewhere/data.yaml', 'answer: 42\n');
    const v = text(`x: !yaml_import {url: 'file://${abs}'}\n`);
    assert.deepEqual(v, { x: { answer: 42 } });
  });

  it('resolves relative imports of a string against baseDir', () => {
    const s = sandbox();
    s.write('script.sh', 'echo one\n');
    const v = parseYamlText('x: !text_import {url: file://script.sh}\n', { baseDir: s.dir });
    assert.deepEqual(v.value, { x: 'echo one\n' });
  });

  it('keeps identity for an alias of an imported value', () => {
    const s = sandbox();
    s.write('ci.yaml', 'a: 1\n');
    const v = parseYamlText(lines('one: &CI !yaml_import {url: file://ci.yaml}', 'two: *CI'), { baseDir: s.dir }).value as {
      one: object;
      two: object;
    };
    assert.deepEqual(v.one, { a: 1 });
    assert.equal(v.two, v.one);
  });

  it('refuses an import tag on a scalar or a list', () => {
    throwsAt(() => text(lines('a: 1', 'b: !yaml_import file://x.yaml')), /!yaml_import must be applied to a mapping/, at(2, 4));
    throwsAt(() => text(lines('b: !text_import [file://x.sh]')), /!text_import must be applied to a mapping/, at(1, 4));
  });

  it('refuses a missing or non-string url', () => {
    throwsAt(() => text(lines('b: !yaml_import', '  uri: file://x.yaml')), /!yaml_import needs a 'url' key/, at(2, 3));
    throwsAt(() => text(lines('b: !text_import {url: [file://x]}')), /'url' must be a string/, at(1, 23));
  });

  it('refuses a URL that is not file://, naming the scheme', () => {
    throwsAt(() => text(lines('b: !yaml_import {url: "http://example.com/x.yaml"}')), /URL scheme 'http' is not supported/, at(1, 23));
    throwsAt(() => text(lines('b: !yaml_import {url: x.yaml}')), /has no scheme/, at(1, 23));
    throwsAt(() => text(lines('b: !yaml_import {url: "file:/x.yaml"}')), /must start with file:\/\//, at(1, 23));
  });

  it('reports a missing or unreadable file with its resolved path and the including position', () => {
    const s = sandbox();
    const main = s.write('main.yaml', lines('a: 1', 'b: !yaml_import', '  url: file://sub/missing.yaml'));
    const missing = path.join(s.dir, 'sub', 'missing.yaml');
    const err = throwsAt(() => loadYamlFile(main), /cannot read/, at(3, 8, main));
    assert.ok(err.message.includes(`'${missing}'`), err.message);
    assert.ok(err.message.includes(`${main}:3:8`), err.message);
    assert.match(err.message, /no such file/);

    fs.mkdirSync(path.join(s.dir, 'adir'));
    const dirMain = s.write('dir.yaml', 'x: !text_import {url: file://adir}\n');
    throwsAt(() => loadYamlFile(dirMain), /cannot read '.*adir'.*directory/, at(1, 23, dirMain));
  });

  it('refuses an empty imported YAML file but accepts an empty text file', () => {
    const s = sandbox();
    const empty = s.write('empty.yaml', '# nothing here\n');
    s.write('empty.txt', '');
    const main = s.write('main.yaml', lines('t: !text_import {url: file://empty.txt}', 'y: !yaml_import {url: file://empty.yaml}'));
    const err = throwsAt(() => loadYamlFile(main), /is empty/, at(2, 23, main));
    assert.ok(err.message.includes(empty));
  });

  it('refuses a file that imports itself, directly or not', () => {
    const s = sandbox();
    const self = s.write('self.yaml', lines('x: 1', 'me: !yaml_import {url: file://self.yaml}'));
    throwsAt(() => loadYamlFile(self), /import cycle/, at(2, 24, self));

    const a = s.write('a.yaml', 'b: !yaml_import {url: file://sub/b.yaml}\n');
    const b = s.write('sub/b.yaml', 'a: !yaml_import {url: file://../a.yaml}\n');
    const err = throwsAt(() => loadYamlFile(a), /import cycle/, at(1, 23, b));
    assert.ok(err.message.includes(a) && err.message.includes(b), err.message);
  });

  it('allows the same file to be imported twice when there is no cycle', () => {
    const s = sandbox();
    s.write('ci.yaml', 'a: 1\n');
    const main = s.write('main.yaml', lines('x: !yaml_import {url: file://ci.yaml}', 'y: !yaml_import {url: file://ci.yaml}'));
    assert.deepEqual(loadYamlFile(main).value, { x: { a: 1 }, y: { a: 1 } });
  });

  it('reports errors inside an imported file at their place in that file', () => {
    const s = sandbox();
    const inner = s.write('nodes/inner.yaml', lines('ok: 1', 'bad: !!python/object:x {}'));
    const main = s.write('main.yaml', 'x: !yaml_import {url: file://nodes/inner.yaml}\n');
    throwsAt(() => loadYamlFile(main), /unsupported YAML tag !!python\/object:x/, at(2, 6, inner));
  });
});

describe('locate', () => {
  function setup(): { doc: LoadedDocument; main: string; ci: string; script: string } {
    const s = sandbox();
    const ci = s.write('nodes/ci.yaml', lines('#cloud-config', 'write_files:', '  - path: /tmp/a', '    content: hi'));
    const script = s.write('nodes/run.sh', 'echo\n');
    const main = s.write(
      'main.yaml',
      lines(
        'defaults: &D',
        '  type: ec2',
        '  size: small',
        'nodes:',
        '  - &A',
        '    name: a',
        '    <<: *D',
        '  - name: b',
        'dependencies:',
        '  - [*A, b]',
        'ctx: !yaml_import {url: file://nodes/ci.yaml}',
        'script: !text_import {url: file://nodes/run.sh}',
      ),
    );
    return { doc: loadYamlFile(main), main, ci, script };
  }

  it('points at the key for an existing key and at the value for list items and the root', () => {
    const { doc, main } = setup();
    assert.deepEqual(doc.locate([]), at(1, 1, main));
    assert.deepEqual(doc.locate(['nodes']), at(4, 1, main));
    assert.deepEqual(doc.locate(['nodes', 1]), at(8, 5, main));
    assert.deepEqual(doc.locate(['nodes', 0, 'name']), at(6, 5, main));
    assert.deepEqual(doc.locate(['dependencies', 0, 1]), at(10, 10, main));
  });

  it('falls back to the nearest existing ancestor', () => {
    const { doc, main } = setup();
    assert.deepEqual(doc.locate(['nodes', 1, 'type']), at(8, 5, main));
    assert.deepEqual(doc.locate(['nodes', 7, 'name']), at(5, 3, main));
    assert.deepEqual(doc.locate(['nowhere', 'deep']), at(1, 1, main));
  });

  it('follows an alias into its anchor, and a merged key into its source', () => {
    const { doc, main } = setup();
    assert.deepEqual(doc.locate(['dependencies', 0, 0]), at(10, 6, main), 'the alias itself');
    assert.deepEqual(doc.locate(['dependencies', 0, 0, 'name']), at(6, 5, main));
    assert.deepEqual(doc.locate(['nodes', 0, 'size']), at(3, 3, main));
    assert.deepEqual(doc.locate(['dependencies', 0, 0, 'type']), at(2, 3, main));
  });

  it('follows into imported files', () => {
    const { doc, main, ci, script } = setup();
    assert.deepEqual(doc.locate(['ctx']), at(11, 1, main), 'the key is in the including file');
    assert.deepEqual(doc.locate(['ctx', 'write_files']), at(2, 1, ci));
    assert.deepEqual(doc.locate(['ctx', 'write_files', 0, 'content']), at(4, 5, ci));
    assert.deepEqual(doc.locate(['ctx', 'missing']), at(2, 1, ci));
    assert.deepEqual(doc.locate(['script', 0]), at(1, 1, script));
  });
});

describe('the shipped examples', () => {
  const root = sharedExamples;
  const files = fs
    .readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => path.join(root, f))
    .sort();

  it('finds example files', () => {
    assert.ok(files.length >= 12, `only ${files.length} example files`);
  });

  for (const file of files) {
    it(`loads ${path.relative(root, file)}`, () => {
      const doc = loadYamlFile(file);
      assert.equal(doc.file, file);
      assert.equal(typeof doc.value, 'object');
      assert.notEqual(doc.value, null);
    });
  }

  it('resolves the !yaml_import of a node definition into the cloud-init mapping', () => {
    const defs = loadYamlFile(path.join(root, 'ec2-ping/nodes/node_definitions.yaml')).value as Record<
      string,
      { contextualisation: { context_template: { write_files?: unknown[] } } }[]
    >;
    const receiver = defs['node_def:ec2_ping_receiver_node']?.[0];
    assert.ok(Array.isArray(receiver?.contextualisation.context_template.write_files));
  });

  it('links dependency ends to node entries by identity', () => {
    const infra = loadYamlFile(path.join(root, 'ec2-ping/infra-ec2-ping.yaml')).value as {
      nodes: object[];
      dependencies: { connection: object[] }[];
    };
    assert.equal(infra.dependencies[0]?.connection[0], infra.nodes[1]);
    assert.equal(infra.dependencies[0]?.connection[1], infra.nodes[0]);
  });
});
