import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig, loadConfig } from '../../../src/config/config.js';
import { ConfigError, YamlError } from '../../../src/errors.js';
import { sandbox } from './helpers.js';

function loadFrom(text: string) {
  const s = sandbox();
  const path = s.write('work/occopus_config.yaml', text);
  return { s, path, load: () => loadConfig({ home: s.home, cwd: s.cwd, env: {} }) };
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig: defaults', () => {
  it('runs on defaults when no config file exists', () => {
    const s = sandbox();
    const r = loadConfig({ home: s.home, cwd: s.cwd, env: {} });
    assert.deepEqual(r.source, { path: null, origin: 'none' });
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config, defaultConfig);
  });

  it('has the documented default values', () => {
    assert.equal(defaultConfig.store, null);
    assert.equal(defaultConfig.rest.host, '127.0.0.1');
    assert.equal(defaultConfig.rest.port, 5000);
    assert.equal(defaultConfig.templates.allow_cmd, false);
    assert.equal(defaultConfig.engine.strategy, 'sequential');
    assert.equal(defaultConfig.engine.create_timeout, 600);
    assert.equal(defaultConfig.engine.poll_interval, 1);
    assert.equal(defaultConfig.engine.downscale_strategy, 'simple');
    assert.equal(defaultConfig.drivers.local.address_range, '127.77.0.0/16');
    assert.equal(defaultConfig.logging.level, 'info');
    assert.equal(defaultConfig.dry_run, false);
  });

  it('gives each caller its own copy of the defaults', () => {
    const s = sandbox();
    const a = loadConfig({ home: s.home, cwd: s.cwd, env: {} }).config;
    a.rest.port = 1;
    assert.equal(loadConfig({ home: s.home, cwd: s.cwd, env: {} }).config.rest.port, 5000);
    assert.equal(defaultConfig.rest.port, 5000);
  });

  it('treats an empty file as all defaults', () => {
    assert.deepEqual(loadFrom('').load().config, defaultConfig);
    assert.deepEqual(loadFrom('# nothing yet\n').load().config, defaultConfig);
  });
});

describe('loadConfig: user values', () => {
  it('merges user values deeply over the defaults', () => {
    const { load, path } = loadFrom(
      ['engine:', '  strategy: parallel', '  create_timeout: 30', 'rest:', '  port: 8080', 'dry_run: true', ''].join('\n'),
    );
    const r = load();
    assert.deepEqual(r.source, { path, origin: 'default' });
    assert.equal(r.config.engine.strategy, 'parallel');
    assert.equal(r.config.engine.create_timeout, 30);
    assert.equal(r.config.engine.poll_interval, 1);
    assert.equal(r.config.engine.parallelism, defaultConfig.engine.parallelism);
    assert.equal(r.config.rest.port, 8080);
    assert.equal(r.config.rest.host, '127.0.0.1');
    assert.equal(r.config.dry_run, true);
    assert.deepEqual(r.config.templates, defaultConfig.templates);
  });

  it('takes an empty section (all lines commented out) as its defaults', () => {
    const r = loadFrom('rest:\n#  port: 1\ndrivers:\n  local:\n').load();
    assert.deepEqual(r.config.rest, defaultConfig.rest);
    assert.deepEqual(r.config.drivers, defaultConfig.drivers);
  });

  it('resolves relative paths against the config file directory and ~ against HOME', () => {
    const { s, load } = loadFrom(
      [
        'store: sqlite:state/occopus.db',
        'rest:',
        '  token_file: ~/.occopus/token',
        'logging:',
        '  file: logs/occopus.log',
        'drivers:',
        '  local:',
        '    base_dir: /var/lib/occopus',
        '',
      ].join('\n'),
    );
    const c = load().config;
    assert.equal(c.store, `sqlite:${join(s.cwd, 'state/occopus.db')}`);
    assert.equal(c.rest.token_file, join(s.home, '.occopus/token'));
    assert.equal(c.logging.file, join(s.cwd, 'logs/occopus.log'));
    assert.equal(c.drivers.local.base_dir, '/var/lib/occopus');
  });

  it('keeps non-file store URLs as written', () => {
    assert.equal(loadFrom('store: redis://db.example:6380/2\n').load().config.store, 'redis://db.example:6380/2');
    assert.equal(loadFrom("store: 'memory:'\n").load().config.store, 'memory:');
  });
});

describe('loadConfig: strict validation', () => {
  it('reports a misspelt key with its file, line and column and the allowed keys', () => {
    const { load, path } = loadFrom('rest:\n  host: 0.0.0.0\n  prot: 8080\n');
    const e = configError(load);
    assert.deepEqual(e.location, { file: path, line: 3, column: 3 });
    assert.match(e.message, /unknown key 'rest\.prot'/);
    assert.match(e.message, /allowed here: host, port/);
    assert.match(e.describe(), new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:3: `));
  });

  it('reports an unknown top-level key', () => {
    const { load } = loadFrom('dry_run: false\nengnie:\n  strategy: parallel\n');
    const e = configError(load);
    assert.equal(e.location?.line, 2);
    assert.equal(e.location?.column, 1);
    assert.match(e.message, /unknown key 'engnie'/);
  });

  it('reports a wrong type or value at the offending field', () => {
    const e1 = configError(loadFrom('engine:\n  strategy: fast\n').load);
    assert.equal(e1.location?.line, 2);
    assert.match(e1.message, /^engine\.strategy: /);
    assert.match(e1.message, /sequential/);

    const e2 = configError(loadFrom("rest:\n  port: '8080'\n").load);
    assert.equal(e2.location?.line, 2);
    assert.match(e2.message, /^rest\.port: .*number/);

    const e3 = configError(loadFrom('drivers:\n  local:\n    address_range: 127.77.0.0/40\n').load);
    assert.equal(e3.location?.line, 3);
    assert.match(e3.message, /drivers\.local\.address_range/);

    const e4 = configError(loadFrom('store: postgres://x\n').load);
    assert.match(e4.message, /^store: .*sqlite:PATH/);
  });

  it('lists every problem, in file order', () => {
    const e = configError(loadFrom('engine:\n  poll_interval: 0\nrest:\n  port: 70000\nbogus: 1\n').load);
    const lines = e.describe().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0] ?? '', /:2:\d+: engine\.poll_interval: /);
    assert.match(lines[1] ?? '', /:4:\d+: rest\.port: /);
    assert.match(lines[2] ?? '', /:5:1: unknown key 'bogus'/);
  });

  it('passes YAML syntax errors through as positioned YamlErrors', () => {
    assert.throws(loadFrom('rest:\n  port: [1,\n').load, (e: unknown) => e instanceof YamlError && e.location !== undefined);
  });

  it('refuses imports in the config file', () => {
    const { s, load } = loadFrom('rest: !yaml_import {url: file://rest.yaml}\n');
    s.write('work/rest.yaml', 'port: 1\n');
    assert.throws(load, YamlError);
  });
});

describe('loadConfig: an Occopus 1.x configuration', () => {
  const occopusConfig = [
    'plugins: !python_import',
    '    - occo.plugins.resourcehandler.ec2',
    '',
    'logging:',
    '    version: 1',
    '',
    'components:',
    '    dry_run: true',
    '    rest:',
    '        host: 0.0.0.0',
    '        port: 5001',
    '    uds: !UDS',
    '        protocol: redis',
    '        host: localhost',
    '    resourcehandler: !ResourceHandler',
    '        protocol: basic',
    '',
  ].join('\n');

  it('is ignored with one warning instead of failing, keeping dry_run and the REST address', () => {
    const { load, path } = loadFrom(occopusConfig);
    const r = load();
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0] ?? '', /is an Occopus 1\.x configuration; occopus uses its own config format, see README; using defaults/);
    assert.ok(r.warnings[0]?.includes(path));
    assert.deepEqual(r.config, { ...defaultConfig, dry_run: true, rest: { ...defaultConfig.rest, host: '0.0.0.0', port: 5001 } });
  });

  it('is recognised by its top-level components even without factory tags', () => {
    const r = loadFrom('components:\n  infobroker: {protocol: basic}\n').load();
    assert.equal(r.warnings.length, 1);
    assert.deepEqual(r.config, defaultConfig);
  });

  it('found through --cfg is reported with its origin', () => {
    const s = sandbox();
    const p = s.write('work/occo.yaml', occopusConfig);
    const r = loadConfig({ cfg: 'occo.yaml', home: s.home, cwd: s.cwd, env: {} });
    assert.deepEqual(r.source, { path: p, origin: 'flag' });
    assert.equal(r.warnings.length, 1);
  });

  it('does not hide a genuinely broken file of ours that happens to use an unknown tag', () => {
    assert.throws(loadFrom('rest: !Bogus {port: 1}\n').load, YamlError);
  });
});
