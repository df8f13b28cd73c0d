import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { checkNodeDefinitionFile } from '../../../src/descriptors/schema/node-definitions.js';
import { assertSomeMessage, fakeDoc, fakeLocation, messagesOf, schemaErrorOf, yamlDoc } from './helpers.js';

const docker = { type: 'docker', endpoint: 'unix:///var/run/docker.sock', origin: 'dockerhub', image: 'busybox', tag: 'latest' };

function defs(...impls: unknown[]): Record<string, unknown> {
  return { 'node_def:web': impls };
}
function check(value: unknown) {
  return checkNodeDefinitionFile(fakeDoc(value));
}
function messages(value: unknown): string[] {
  return messagesOf(() => check(value));
}

describe('node-definition file: structure', () => {
  it("returns the user's lists keyed by the type after 'node_def:'", () => {
    const doc = yamlDoc(`'node_def:web':\n  - resource: {type: local}\n'node_def:db':\n  - resource: {type: local}\n  - resource: {type: dummy}\n`);
    const { value, warnings } = checkNodeDefinitionFile(doc);
    const root = doc.value as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), ['web', 'db']);
    assert.equal(value.web, root['node_def:web']);
    assert.equal(value.db, root['node_def:db']);
    assert.deepEqual(warnings, []);
  });

  it('accepts a type that would be a dangerous property name', () => {
    const { value } = check({ 'node_def:__proto__': [{ resource: { type: 'local' } }] });
    assert.ok(Object.hasOwn(value, '__proto__'));
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
  });

  it('requires the node_def: prefix and a non-empty type', () => {
    const ms = messages({ web: [], 'node_def:': [] });
    assert.deepEqual(ms, [
      "node 'web': Node definition key must have the form 'node_def:<type>'",
      "node 'node_def:': the node type after 'node_def:' must not be empty",
    ]);
  });

  it('requires a list of mapping implementations, each with a resource section', () => {
    assert.deepEqual(messages({ 'node_def:web': { resource: {} } }), ["node 'web': Node definition must be a list of implementations (mappings)"]);
    assertSomeMessage(messages(defs('x')), "node 'web'[0]: must be a mapping");
    assertSomeMessage(messages(defs({})), "node 'web'[0]: Missing section(s): resource");
  });

  it('reports an empty file, or one that is not a mapping', () => {
    assertSomeMessage(messagesOf(() => checkNodeDefinitionFile(yamlDoc(''))), 'node-definition file is empty');
    assertSomeMessage(messages(['node_def:web']), 'node-definition file is not a mapping');
  });

  it('warns about a type without implementations', () => {
    const { value, warnings } = check({ 'node_def:web': [] });
    assert.deepEqual(value.web, []);
    assert.equal(warnings.length, 1);
    assertSomeMessage(warnings, "node 'web' has no implementations");
  });

  it('rejects unknown sections and names the allowed ones', () => {
    const ms = messages(defs({ resource: { type: 'local' }, healthcheck: {} }));
    assertSomeMessage(ms, "node 'web'[0]: Unknown section(s): healthcheck", 'health_check');
  });

  it('reports null sections clearly', () => {
    const ms = messages(defs({ resource: { type: 'local' }, health_check: null, contextualisation: null }));
    assertSomeMessage(ms, "node 'web'[0]: health_check must be a mapping, but it is empty (null)");
    assertSomeMessage(ms, "node 'web'[0]: contextualisation must be a mapping, but it is empty (null)");
  });

  it('accepts create_timeout on an implementation, as positive seconds only', () => {
    check(defs({ resource: { type: 'local' }, create_timeout: 120 }));
    assertSomeMessage(messages(defs({ resource: { type: 'local' }, create_timeout: 0 })), "node 'web'[0]: create_timeout must be a positive number of seconds");
    assertSomeMessage(messages(defs({ resource: { type: 'local' }, create_timeout: true })), 'create_timeout must be');
  });

  it('inserts nothing into the user data (no health_check.type, no defaults)', () => {
    const doc = yamlDoc(`'node_def:web':\n  - resource: {type: local}\n    health_check: {ping: false}\n`);
    const before = structuredClone(doc.value);
    checkNodeDefinitionFile(doc);
    assert.deepEqual(doc.value, before);
  });
});

describe('node-definition file: typed sections', () => {
  it('requires a type in resource, contextualisation and config_management', () => {
    const ms = messages(defs({ resource: { name: 'x' }, contextualisation: { env: [] }, config_management: { endpoint: 'e' } }));
    assert.deepEqual(ms, [
      "'resource' section of node 'web'[0]: Missing key(s): type",
      "'contextualisation' section of node 'web'[0]: Missing key(s): type",
      "'config_management' section of node 'web'[0]: Missing key(s): type",
    ]);
  });

  it('reports an unknown type as one error listing the known types', () => {
    const ms = messages(
      defs({ resource: { type: 'ecc2', endpoint: 'x' }, contextualisation: { type: 'cloud-init' }, config_management: { type: 'ansible' } }),
    );
    assert.deepEqual(ms, [
      "'resource' section of node 'web'[0]: Unknown resource type 'ecc2' (known: ec2, nova, azure_vm, azure_aci, cloudsigma, cloudbroker, docker, local, dummy)",
      "'contextualisation' section of node 'web'[0]: Unknown contextualisation type 'cloud-init' (known: cloudinit, docker, basic)",
      "'config_management' section of node 'web'[0]: Unknown config_management type 'ansible' (known: dummy, chef, puppet_solo)",
    ]);
  });

  it('reports a non-string type', () => {
    assertSomeMessage(messages(defs({ resource: { type: 5 } })), "'resource' section of node 'web'[0]: type must be a string, one of: ec2");
  });

  it('accepts an explicit dummy config manager, with nothing else in it', () => {
    check(defs({ resource: docker, config_management: { type: 'dummy' } }));
    assertSomeMessage(messages(defs({ resource: docker, config_management: { type: 'dummy', x: 1 } })), 'Unknown key(s): x');
  });

  it('reports problems of every implementation and section at once, with their paths', () => {
    const doc = fakeDoc({
      'node_def:web': [{ resource: { ...docker, foo: 1 } }, { resource: { type: 'local' }, health_check: { ping: 'yes' } }],
      'node_def:db': [{ resource: { type: 'nova' } }],
    });
    const err = schemaErrorOf(() => checkNodeDefinitionFile(doc));
    assert.deepEqual(
      err.issues.map((i) => [i.message, i.path]),
      [
        ["'resource' section of node 'web'[0]: Unknown key(s): foo", ['node_def:web', 0, 'resource', 'foo']],
        ["'health_check' section of node 'web'[1]: ping must be true or false", ['node_def:web', 1, 'health_check', 'ping']],
        ["'resource' section of node 'db'[0]: Missing key(s): endpoint, image_id, flavor_name, project_id", ['node_def:db', 0, 'resource']],
      ],
    );
    for (const issue of err.issues) assert.deepEqual(issue.location, fakeLocation(issue.path));
  });

  it('locates issues in the file with the real loader', () => {
    const err = schemaErrorOf(() =>
      checkNodeDefinitionFile(yamlDoc(`'node_def:web':\n  - resource:\n      type: docker\n      endpoint: e\n      origin: dockerhub\n      image: i\n      tag: 1\n      colour: red\n`)),
    );
    assert.equal(err.issues.length, 1);
    assert.equal(err.issues[0]?.location?.line, 8); // the unknown key itself
    assert.match(err.describe(), /^test\.yaml:8:7: 'resource' section of node 'web'\[0\]: Unknown key\(s\): colour$/);
  });
});

describe('contextualisation section', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['cloudinit', { type: 'cloudinit', context_template: { runcmd: ['x'] }, attributes: { a: 1 } }, 'env'],
    ['docker', { type: 'docker', env: ['A=1'], command: ['sh', '-c', 'x'], context_variables: { any: ['thing'] } }, 'attributes'],
    ['basic', { type: 'basic', attributes: { a: { b: 1 } } }, 'context_template'],
  ];
  for (const [type, section, foreign] of cases) {
    it(`${type}: accepts its documented keys and rejects '${foreign}'`, () => {
      check(defs({ resource: docker, contextualisation: section }));
      const ms = messages(defs({ resource: docker, contextualisation: { ...section, [foreign]: 1 } }));
      assert.deepEqual(ms, [`'contextualisation' section of node 'web'[0]: Unknown key(s): ${foreign}`]);
    });
  }

  it('cloudinit: context_template may be a mapping, a string or empty, and is required', () => {
    for (const t of [{ a: 1 }, '#!/bin/sh\necho hi\n', null]) check(defs({ resource: docker, contextualisation: { type: 'cloudinit', context_template: t } }));
    assertSomeMessage(messages(defs({ resource: docker, contextualisation: { type: 'cloudinit', context_template: 5 } })), 'context_template must be a mapping (cloud-config), a string, or empty');
    assertSomeMessage(messages(defs({ resource: docker, contextualisation: { type: 'cloudinit' } })), 'Missing key(s): context_template');
  });

  it('docker: env is a required list of strings, command a string or a list', () => {
    check(defs({ resource: docker, contextualisation: { type: 'docker', env: [], command: 'sh -c /root/start.sh' } }));
    assertSomeMessage(messages(defs({ resource: docker, contextualisation: { type: 'docker', command: 'x' } })), 'Missing key(s): env');
    assertSomeMessage(messages(defs({ resource: docker, contextualisation: { type: 'docker', env: 'A=1' } })), "env must be a list of 'NAME=value' strings");
    assertSomeMessage(messages(defs({ resource: docker, contextualisation: { type: 'docker', env: [], command: 5 } })), 'command must be a string or a list of strings');
  });

  it('basic: attributes are required', () => {
    assertSomeMessage(messages(defs({ resource: docker, contextualisation: { type: 'basic' } })), 'Missing key(s): attributes');
  });
});

describe('config_management section', () => {
  it('chef: endpoint and run_list are required; attributes are rejected', () => {
    check(defs({ resource: docker, config_management: { type: 'chef', endpoint: 'https://chef', run_list: ['recipe[x]'] } }));
    assertSomeMessage(messages(defs({ resource: docker, config_management: { type: 'chef' } })), 'Missing key(s): endpoint, run_list');
    assertSomeMessage(
      messages(defs({ resource: docker, config_management: { type: 'chef', endpoint: 'e', run_list: [], attributes: {} } })),
      'Unknown key(s): attributes',
    );
  });

  it('puppet_solo: manifests required; the three values must be lists', () => {
    check(defs({ resource: docker, config_management: { type: 'puppet_solo', manifests: ['m.pp'], modules: ['x'], attributes: [{ a: 1 }] } }));
    assertSomeMessage(messages(defs({ resource: docker, config_management: { type: 'puppet_solo' } })), 'Missing key(s): manifests');
    const ms = messages(defs({ resource: docker, config_management: { type: 'puppet_solo', manifests: 'm.pp', modules: 'x' } }));
    assertSomeMessage(ms, 'manifests must be a list');
    assertSomeMessage(ms, 'modules must be a list');
    assertSomeMessage(messages(defs({ resource: docker, config_management: { type: 'puppet_solo', manifests: [], endpoint: 'e' } })), 'Unknown key(s): endpoint');
  });
});

describe('health_check section', () => {
  function hc(section: unknown): string[] {
    return messages(defs({ resource: docker, health_check: section }));
  }
  function ok(section: unknown): void {
    check(defs({ resource: docker, health_check: section }));
  }

  it('accepts every documented key, empty lists and an empty section', () => {
    ok({ type: 'basic', ping: false, ports: [22, 8080], urls: ['http://{{ip}}/'], mysqldbs: [{ name: 'db', user: 'u', pass: 'p' }], timeout: 600 });
    ok({ ports: [], urls: [], mysqldbs: [] });
    ok({});
  });

  it("accepts only 'basic' as type", () => {
    assert.deepEqual(hc({ type: 'advanced' }), ["'health_check' section of node 'web'[0]: type must be 'basic' (the only health-check type)"]);
  });

  it('rejects unknown keys', () => {
    assert.deepEqual(hc({ ping: true, protocol: 'basic' }), ["'health_check' section of node 'web'[0]: Unknown key(s): protocol"]);
  });

  it('checks every mysqldbs entry, not only the last', () => {
    const ms = hc({ mysqldbs: [{ name: 'a', user: 'u' }, { name: 'b', user: 'u', pass: 'p' }, { name: 'c', user: 'u', pass: 'p', host: 'h' }] });
    assert.deepEqual(ms, [
      "'health_check' section of node 'web'[0]: Missing key(s) in mysqldbs[0]: pass",
      "'health_check' section of node 'web'[0]: Unknown key(s) in mysqldbs[2]: host",
    ]);
  });

  it('booleans are neither ports nor timeouts', () => {
    const ms = hc({ ports: [true, 22], timeout: true });
    assertSomeMessage(ms, 'ports[0] must be a port number');
    assertSomeMessage(ms, 'timeout must be a non-negative number of seconds');
    assert.equal(ms.length, 2);
  });

  it('rejects ping that is not a boolean (YAML 1.2: yes is a string)', () => {
    assertSomeMessage(hc({ ping: 'yes' }), 'ping must be true or false');
  });

  it('rejects sections that should be lists', () => {
    const ms = hc({ ports: 22, urls: 'http://x', mysqldbs: { name: 'a' } });
    assertSomeMessage(ms, 'ports must be a list of port numbers');
    assertSomeMessage(ms, 'urls must be a list of URLs');
    assertSomeMessage(ms, 'mysqldbs must be a list');
  });
});
