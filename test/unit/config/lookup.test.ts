import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { findAuthDataFile, findAuthDataSource } from '../../../src/config/auth-data.js';
import { findConfigFile } from '../../../src/config/config.js';
import { ConfigError } from '../../../src/errors.js';
import { sandbox } from './helpers.js';

describe('findConfigFile', () => {
  it('finds nothing in an empty HOME and working directory (not an error)', () => {
    const s = sandbox();
    assert.deepEqual(findConfigFile({ home: s.home, cwd: s.cwd, env: {} }), { path: null, origin: 'none' });
  });

  it('follows the order --cfg, $OCCOPUS_CONFIG_PATH, ~/.occopus, ./', () => {
    const s = sandbox();
    const inCwd = s.write('work/occopus_config.yaml', '{}\n');
    const base = { home: s.home, cwd: s.cwd };
    assert.deepEqual(findConfigFile({ ...base, env: {} }), { path: inCwd, origin: 'default' });

    const inHome = s.write('home/.occopus/occopus_config.yaml', '{}\n');
    assert.deepEqual(findConfigFile({ ...base, env: {} }), { path: inHome, origin: 'default' });

    const fromEnv = s.write('elsewhere/env.yaml', '{}\n');
    assert.deepEqual(findConfigFile({ ...base, env: { OCCOPUS_CONFIG_PATH: fromEnv } }), { path: fromEnv, origin: 'env' });

    s.write('work/my.yaml', '{}\n');
    assert.deepEqual(findConfigFile({ ...base, cfg: 'my.yaml', env: { OCCOPUS_CONFIG_PATH: fromEnv } }), {
      path: join(s.cwd, 'my.yaml'),
      origin: 'flag',
    });
  });

  it('keeps an absolute --cfg absolute', () => {
    const s = sandbox();
    const abs = s.write('etc/occopus/cfg.yaml', '{}\n');
    assert.deepEqual(findConfigFile({ cfg: abs, home: s.home, cwd: s.cwd, env: {} }), { path: abs, origin: 'flag' });
  });

  it('treats an empty $OCCOPUS_CONFIG_PATH as unset', () => {
    const s = sandbox();
    const inCwd = s.write('work/occopus_config.yaml', '{}\n');
    assert.equal(findConfigFile({ home: s.home, cwd: s.cwd, env: { OCCOPUS_CONFIG_PATH: '' } }).path, inCwd);
  });

  it('refuses a --cfg that does not exist, naming the resolved path, even when defaults exist', () => {
    const s = sandbox();
    s.write('home/.occopus/occopus_config.yaml', '{}\n');
    assert.throws(
      () => findConfigFile({ cfg: 'nope.yaml', home: s.home, cwd: s.cwd, env: {} }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.code === 'E_CONFIG' &&
        e.message === `Specified configuration file does not exist: '${join(s.cwd, 'nope.yaml')}'`,
    );
  });

  it('refuses a $OCCOPUS_CONFIG_PATH that does not exist, naming the variable and path', () => {
    const s = sandbox();
    const missing = join(s.root, 'missing.yaml');
    assert.throws(
      () => findConfigFile({ home: s.home, cwd: s.cwd, env: { OCCOPUS_CONFIG_PATH: missing } }),
      (e: unknown) =>
        e instanceof ConfigError && e.message.includes('$OCCOPUS_CONFIG_PATH') && e.message.includes(`'${missing}'`),
    );
  });

  it('refuses a --cfg that is a directory', () => {
    const s = sandbox();
    mkdirSync(join(s.cwd, 'dir'));
    assert.throws(
      () => findConfigFile({ cfg: 'dir', home: s.home, cwd: s.cwd, env: {} }),
      /Specified configuration file is not a regular file: '.*dir'/,
    );
  });
});

describe('findAuthDataFile', () => {
  it('returns null when there is no auth file anywhere', () => {
    const s = sandbox();
    assert.equal(findAuthDataFile({ home: s.home, cwd: s.cwd, env: {} }), null);
  });

  it('follows the order --auth_data_path, $OCCOPUS_AUTH_DATA_PATH, ~/.occopus, ./', () => {
    const s = sandbox();
    const base = { home: s.home, cwd: s.cwd };
    const inCwd = s.write('work/auth_data.yaml', '');
    assert.equal(findAuthDataFile({ ...base, env: {} }), inCwd);
    const inHome = s.write('home/.occopus/auth_data.yaml', '');
    assert.equal(findAuthDataFile({ ...base, env: {} }), inHome);
    assert.deepEqual(findAuthDataSource({ ...base, env: {} }), { path: inHome, origin: 'default' });
    const fromEnv = s.write('x/auth.yaml', '');
    assert.equal(findAuthDataFile({ ...base, env: { OCCOPUS_AUTH_DATA_PATH: fromEnv } }), fromEnv);
    const flagged = s.write('work/sub/mine.yaml', '');
    assert.equal(
      findAuthDataFile({ ...base, authDataPath: 'sub/mine.yaml', env: { OCCOPUS_AUTH_DATA_PATH: fromEnv } }),
      flagged,
    );
    assert.deepEqual(findAuthDataSource({ ...base, authDataPath: 'sub/mine.yaml', env: {} }), { path: flagged, origin: 'flag' });
  });

  it("refuses a missing --auth_data_path with Occopus's message", () => {
    const s = sandbox();
    s.write('home/.occopus/auth_data.yaml', '');
    const missing = join(s.root, 'gone.yaml');
    assert.throws(
      () => findAuthDataFile({ authDataPath: missing, home: s.home, cwd: s.cwd, env: {} }),
      (e: unknown) =>
        e instanceof ConfigError && e.message === `Specified authentication file does not exist: '${missing}'`,
    );
  });

  it('refuses a $OCCOPUS_AUTH_DATA_PATH that does not exist rather than silently using another file', () => {
    const s = sandbox();
    s.write('home/.occopus/auth_data.yaml', '');
    assert.throws(
      () => findAuthDataFile({ home: s.home, cwd: s.cwd, env: { OCCOPUS_AUTH_DATA_PATH: join(s.root, 'gone.yaml') } }),
      /\$OCCOPUS_AUTH_DATA_PATH does not exist: '.*gone\.yaml'/,
    );
  });
});
