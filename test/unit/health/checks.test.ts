import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, OccopusError } from '../../../src/errors.js';
import { httpUrl, isPingableAddress, ping, tcpPort } from '../../../src/health/checks.js';

test('addresses that could inject arguments or commands are not pingable', () => {
  for (const bad of ['', '-c 1', '-c', '1.2.3.4; rm -rf /', '1.2.3.4 -f', '$(reboot)', 'a b', 'host\n-f', 'x'.repeat(254)]) {
    assert.equal(isPingableAddress(bad), false, JSON.stringify(bad));
  }
  for (const good of ['127.0.0.1', '10.0.0.12', '::1', '2001:db8::7', 'node-1.example.org', 'localhost']) {
    assert.equal(isPingableAddress(good), true, good);
  }
});

test('ping never runs a command for a rejected address', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'occopus-ping-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const marker = join(dir, 'ran');
  const fakePing = join(dir, 'fake-ping');
  writeFileSync(fakePing, `#!/bin/sh\ntouch '${marker}'\nexit 0\n`);
  chmodSync(fakePing, 0o755);

  for (const bad of ['-c 1', '1.2.3.4; rm -rf /', '']) {
    const result = await ping(bad, { timeoutMs: 1000, command: fakePing });
    assert.equal(result.ok, false, JSON.stringify(bad));
    assert.match(result.detail, /not an IP address or host name/);
  }
  assert.equal(existsSync(marker), false, 'the ping command was started');

  // The fake does run for a valid address, so the check above can fail.
  assert.equal((await ping('127.0.0.1', { timeoutMs: 1000, command: fakePing })).ok, true);
  assert.equal(existsSync(marker), true);
});

test('ping runs one echo request with the timeout in whole seconds, -6 for IPv6, the address last', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'occopus-ping-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const argsFile = join(dir, 'args');
  const fakePing = join(dir, 'fake-ping');
  writeFileSync(fakePing, `#!/bin/sh\nprintf '%s|' "$@" >> '${argsFile}'\necho >> '${argsFile}'\nexit 0\n`);
  chmodSync(fakePing, 0o755);

  await ping('10.1.2.3', { timeoutMs: 2000, command: fakePing });
  await ping('2001:db8::7', { timeoutMs: 1500, command: fakePing });
  await ping('node-1.example.org', { timeoutMs: 100, command: fakePing });
  assert.deepEqual(readFileSync(argsFile, 'utf8').trim().split('\n'), [
    '-c|1|-W|2|10.1.2.3|',
    '-c|1|-W|2|-6|2001:db8::7|',
    '-c|1|-W|1|node-1.example.org|',
  ]);
});

test('a missing ping command is an error with the install hint, not an unhealthy node', async () => {
  await assert.rejects(
    ping('127.0.0.1', { timeoutMs: 1000, command: '/nonexistent/occopus/ping' }),
    (e: unknown) => e instanceof ConfigError && e.message === 'ping command not found: install iputils-ping',
  );
});

test('ping reports a non-zero exit as unhealthy with the reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'occopus-ping-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fakePing = join(dir, 'fake-ping');
  writeFileSync(fakePing, `#!/bin/sh\necho "ping: unknown host" >&2\nexit 2\n`);
  chmodSync(fakePing, 0o755);
  const noReply = join(dir, 'no-reply');
  writeFileSync(noReply, `#!/bin/sh\nexit 1\n`);
  chmodSync(noReply, 0o755);

  assert.deepEqual(await ping('nohost.invalid', { timeoutMs: 2000, command: fakePing }), {
    ok: false,
    detail: 'ping nohost.invalid failed: ping: unknown host',
  });
  assert.deepEqual(await ping('10.9.9.9', { timeoutMs: 2000, command: noReply }), {
    ok: false,
    detail: 'ping 10.9.9.9: no reply within 2s',
  });
});

test('a cancelled ping throws E_CANCELLED instead of reporting the node unhealthy', async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    ping('127.0.0.1', { timeoutMs: 1000, signal: controller.signal }),
    (e: unknown) => e instanceof OccopusError && e.code === 'E_CANCELLED',
  );
});

test('only http and https URLs are requested', async () => {
  for (const url of ['file:///etc/passwd', 'ftp://example.org/', 'gopher://127.0.0.1:6379/_FLUSHALL']) {
    const result = await httpUrl(url, { timeoutMs: 500 });
    assert.equal(result.ok, false);
    assert.match(result.detail, /only http and https/);
  }
  const bad = await httpUrl('not a url', { timeoutMs: 500 });
  assert.deepEqual(bad, { ok: false, detail: 'HEAD "not a url": not a valid URL' });
});

test('a password in a URL is not echoed in the detail', async () => {
  const result = await httpUrl('ftp://admin:s3cret@example.org/', { timeoutMs: 500 });
  assert.equal(result.ok, false);
  assert.doesNotMatch(result.detail, /s3cret/);
  assert.match(result.detail, /admin:\*\*\*@example\.org/);
});

test('a port outside 1..65535 fails without connecting', async () => {
  for (const port of [0, 65536, 8.5]) {
    const result = await tcpPort('127.0.0.1', port, { timeoutMs: 500 });
    assert.deepEqual(result, { ok: false, detail: `port ${port} is not a TCP port number` });
  }
});
