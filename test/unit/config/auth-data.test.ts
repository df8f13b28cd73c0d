import assert from 'node:assert/strict';
import { unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AuthData } from '../../../src/config/auth-data.js';
import { AuthError, ConfigError } from '../../../src/errors.js';
import { sandbox } from './helpers.js';

function authFile(text: string): { path: string; auth: AuthData } {
  const s = sandbox();
  const path = s.write('work/auth_data.yaml', text);
  return { path, auth: AuthData.fromFile(path) };
}

describe('AuthData.select', () => {
  const file = [
    'resource:',
    '  - type: ec2',
    '    endpoint: https://ec2.eu-west-1.amazonaws.com',
    '    auth_data:',
    '      accesskey: AKIA-EU',
    '      secretkey: eu-secret',
    '  - type: nova',
    '    auth_data:',
    '      username: alice',
    '      password: nova-pass',
    'config_management:',
    '  - type: chef',
    '    auth_data:',
    '      client_name: alice',
    '',
  ].join('\n');

  it('returns the auth_data of the entry whose filter matches', () => {
    const { auth } = authFile(file);
    assert.deepEqual(
      auth.select('resource', { type: 'ec2', endpoint: 'https://ec2.eu-west-1.amazonaws.com', regionname: 'eu-west-1' }),
      { accesskey: 'AKIA-EU', secretkey: 'eu-secret' },
    );
    assert.deepEqual(auth.select('resource', { type: 'nova', endpoint: 'https://keystone' }), {
      username: 'alice',
      password: 'nova-pass',
    });
    assert.deepEqual(auth.select('config_management', { type: 'chef', endpoint: 'https://chef' }), { client_name: 'alice' });
  });

  it('returns null when nothing matches, and compares strings case-sensitively', () => {
    const { auth } = authFile(file);
    assert.equal(auth.select('resource', { type: 'ec2', endpoint: 'https://ec2.us-east-1.amazonaws.com' }), null);
    assert.equal(auth.select('resource', { type: 'EC2', endpoint: 'https://ec2.eu-west-1.amazonaws.com' }), null);
    assert.equal(auth.select('resource', { type: 'docker' }), null);
    // A filter key the target lacks is no match.
    assert.equal(auth.select('resource', { type: 'ec2' }), null);
  });

  it('returns null for a missing, null or empty section, an empty file and no file', () => {
    assert.equal(authFile('resource:\n  - type: ec2\n    auth_data: {a: b}\n').auth.select('config_management', { type: 'chef' }), null);
    assert.equal(authFile('resource:\nconfig_management: []\n').auth.select('resource', { type: 'ec2' }), null);
    assert.equal(authFile('').auth.select('resource', { type: 'ec2' }), null);
    assert.equal(AuthData.fromFile(null).select('resource', { type: 'ec2' }), null);
    assert.equal(AuthData.fromValue(null).select('resource', { type: 'ec2' }), null);
  });

  it('returns null when the matching entry has auth_data: null', () => {
    const auth = AuthData.fromValue({ resource: [{ type: 'docker', auth_data: null }] });
    assert.equal(auth.select('resource', { type: 'docker' }), null);
  });

  it('lets a catch-all entry match everything but lose to any more specific match', () => {
    const auth = AuthData.fromValue({
      resource: [
        { auth_data: { username: 'generic' } },
        { type: 'ec2', auth_data: { accesskey: 'any-ec2' } },
        { type: 'ec2', endpoint: 'A', auth_data: { accesskey: 'ec2-at-A' } },
      ],
    });
    assert.deepEqual(auth.select('resource', { type: 'ec2', endpoint: 'A' }), { accesskey: 'ec2-at-A' });
    assert.deepEqual(auth.select('resource', { type: 'ec2', endpoint: 'B' }), { accesskey: 'any-ec2' });
    assert.deepEqual(auth.select('resource', { type: 'nova', endpoint: 'A' }), { username: 'generic' });
  });

  it('refuses two equally specific matches, naming section and positions but no secret', () => {
    const { auth, path } = authFile(
      [
        'resource:',
        '  - type: ec2',
        '    auth_data: {accesskey: first-key, secretkey: first-secret}',
        '  - type: nova',
        '    auth_data: {username: u, password: p}',
        '  - endpoint: A',
        '    auth_data: {accesskey: second-key, secretkey: second-secret}',
        '',
      ].join('\n'),
    );
    assert.throws(
      () => auth.select('resource', { type: 'ec2', endpoint: 'A' }),
      (e: unknown) => {
        assert.ok(e instanceof AuthError);
        assert.equal(e.code, 'E_AUTH');
        assert.match(e.message, /resource\[0\]/);
        assert.match(e.message, /resource\[2\]/);
        assert.ok(e.message.includes(`${path}:2:`), e.message);
        assert.ok(e.message.includes(`${path}:6:`), e.message);
        for (const secret of ['first-key', 'first-secret', 'second-key', 'second-secret']) {
          assert.ok(!e.message.includes(secret), `message leaks ${secret}`);
        }
        return true;
      },
    );
    // Only the ambiguous target fails; others still resolve.
    assert.deepEqual(auth.select('resource', { type: 'ec2', endpoint: 'B' }), { accesskey: 'first-key', secretkey: 'first-secret' });
  });

  it('compares numbers and booleans the Python way (1 == 1.0, true == 1) and nested values deeply', () => {
    const auth = AuthData.fromValue({
      resource: [
        { type: 'x', version: 2, auth_data: { who: 'v2' } },
        { type: 'y', flag: true, auth_data: { who: 'flag' } },
        { type: 'z', tags: { env: 'prod', ids: [1, 2] }, auth_data: { who: 'nested' } },
      ],
    });
    assert.deepEqual(auth.select('resource', { type: 'x', version: 2.0 }), { who: 'v2' });
    assert.equal(auth.select('resource', { type: 'x', version: '2' }), null);
    assert.deepEqual(auth.select('resource', { type: 'y', flag: 1 }), { who: 'flag' });
    assert.deepEqual(auth.select('resource', { type: 'z', tags: { ids: [1.0, 2], env: 'prod' } }), { who: 'nested' });
    assert.equal(auth.select('resource', { type: 'z', tags: { env: 'prod', ids: [2, 1] } }), null);
    assert.equal(auth.select('resource', { type: 'z', tags: { env: 'prod', ids: [1, 2], more: 1 } }), null);
  });

  it('returns a copy: changing it does not change later selections', () => {
    const auth = AuthData.fromValue({ resource: [{ type: 'ec2', auth_data: { accesskey: 'k', extra: { a: 1 } } }] });
    const first = auth.select('resource', { type: 'ec2' });
    assert.ok(first);
    first['accesskey'] = 'changed';
    (first['extra'] as Record<string, unknown>)['a'] = 2;
    assert.deepEqual(auth.select('resource', { type: 'ec2' }), { accesskey: 'k', extra: { a: 1 } });
  });
});

describe('AuthData: file errors', () => {
  it('reports an entry without auth_data with its position', () => {
    const s = sandbox();
    const path = s.write('work/auth_data.yaml', 'resource:\n  - type: ec2\n    auth_data: {a: b}\n  - type: nova\n    username: x\n');
    assert.throws(
      () => AuthData.fromFile(path),
      (e: unknown) =>
        e instanceof ConfigError && /resource\[1\] has no 'auth_data'/.test(e.message) && e.location?.file === path && e.location.line === 4,
    );
  });

  it('reports an unknown top-level key with its position', () => {
    const s = sandbox();
    const path = s.write('work/auth_data.yaml', 'resource: []\nresources:\n  - type: ec2\n');
    assert.throws(
      () => AuthData.fromFile(path),
      (e: unknown) =>
        e instanceof ConfigError &&
        /unknown key 'resources'/.test(e.message) &&
        e.location?.line === 2 &&
        e.location.column === 1,
    );
  });

  it('reports a section that is not a list, and a non-mapping auth_data without echoing it', () => {
    assert.throws(() => AuthData.fromValue({ resource: { type: 'ec2' } }), /'resource' must be a list/);
    assert.throws(
      () => AuthData.fromValue({ resource: [{ type: 'ec2', auth_data: 'hunter2' }] }),
      (e: unknown) => e instanceof ConfigError && /resource\[0\]\.auth_data must be a mapping/.test(e.message) && !e.message.includes('hunter2'),
    );
  });
});

describe('AuthData.fromFile', () => {
  it('re-reads the file after it changed, so edits take effect', () => {
    const { auth, path } = authFile('resource:\n  - type: ec2\n    auth_data: {accesskey: old}\n');
    assert.deepEqual(auth.select('resource', { type: 'ec2' }), { accesskey: 'old' });
    writeFileSync(path, 'resource:\n  - type: ec2\n    auth_data: {accesskey: new}\n');
    // Same size as before; make sure the mtime differs even on coarse-grained file systems.
    const later = new Date(Date.now() + 5000);
    utimesSync(path, later, later);
    assert.deepEqual(auth.select('resource', { type: 'ec2' }), { accesskey: 'new' });
  });

  it('reads chef keys brought in with !text_import, relative to the auth file', () => {
    const s = sandbox();
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----\n';
    s.write('work/keys/user.pem', pem);
    const path = s.write(
      'work/auth_data.yaml',
      [
        'config_management:',
        '  - type: chef',
        '    endpoint: https://chef.example',
        '    auth_data:',
        '      client_name: alice',
        '      client_key: !text_import',
        '        url: file://keys/user.pem',
        '',
      ].join('\n'),
    );
    const auth = AuthData.fromFile(path);
    assert.equal(auth.file, path);
    assert.deepEqual(auth.select('config_management', { type: 'chef', endpoint: 'https://chef.example' }), {
      client_name: 'alice',
      client_key: pem,
    });
  });

  it('says so when the file disappeared since it was read', () => {
    const { auth, path } = authFile('resource: []\n');
    unlinkSync(path);
    assert.throws(
      () => auth.select('resource', { type: 'ec2' }),
      (e: unknown) => e instanceof ConfigError && e.message === `Authentication file does not exist any more: '${path}'`,
    );
  });
});
