/** The docker driver's pure parts: command splitting, env, state mapping, names, endpoints, archives. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  addressesOf,
  archiveKind,
  commandArgv,
  containerIdOf,
  containerName,
  displayOrigin,
  dockerEndpoint,
  environment,
  mapState,
  parseOrigin,
  splitCommand,
} from '../../../src/drivers/docker/index.js';
import { dockerResourceSchema } from '../../../src/drivers/docker/schema.js';

const tmp = mkdtempSync(join(tmpdir(), 'occopus-docker-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('docker command splitting (as docker-py: shlex.split)', () => {
  // Expected values are what Python's shlex.split returns for the same strings.
  const cases: Array<[string, string[]]> = [
    ['sh -c /root/start.sh', ['sh', '-c', '/root/start.sh']],
    [`echo "a b" '$HOME' c\\ d`, ['echo', 'a b', '$HOME', 'c d']],
    ['a"b c"d', ['ab cd']],
    ['x "" y', ['x', '', 'y']],
    ['a "q\\"x\\$y\\\\"', ['a', 'q"x\\$y\\']],
    ['  lead  trail  ', ['lead', 'trail']],
    ['tab\tsep\nnl', ['tab', 'sep', 'nl']],
    ['a#b #c', ['a#b', '#c']],
  ];
  for (const [text, argv] of cases) {
    it(`splits ${JSON.stringify(text)}`, () => assert.deepEqual(splitCommand(text), argv));
  }
  it('refuses an unclosed quote or a trailing backslash with a typed error', () => {
    assert.throws(() => splitCommand('echo "oops'), { code: 'E_DRIVER', message: /no closing quotation/ });
    assert.throws(() => splitCommand('echo oops\\'), { code: 'E_DRIVER' });
  });
  it('takes a list as the argv, and nothing as the image default', () => {
    assert.deepEqual(commandArgv(['sh', '-c', 'echo "$x"']), ['sh', '-c', 'echo "$x"']);
    assert.equal(commandArgv(null), null);
    assert.equal(commandArgv('   '), null);
    assert.throws(() => commandArgv([1, 2]), { code: 'E_DRIVER' });
  });
});

describe('docker env', () => {
  it('takes NAME=value strings or a mapping', () => {
    assert.deepEqual(environment(['message=Hello World!', 'x=']), ['message=Hello World!', 'x=']);
    assert.deepEqual(environment({ a: 1, b: 'two', c: null }), ['a=1', 'b=two', 'c=']);
    assert.deepEqual(environment(null), []);
    assert.throws(() => environment([{ a: 1 }]), { code: 'E_DRIVER', message: /env\[0\]/ });
    assert.throws(() => environment('a=b'), { code: 'E_DRIVER' });
  });
});

describe('docker state mapping (plugins §8, bugs fixed)', () => {
  it('maps every engine state', () => {
    assert.equal(mapState({ Status: 'running', Running: true }), 'ready');
    assert.equal(mapState({ Status: 'created', StartedAt: '0001-01-01T00:00:00Z' }), 'pending');
    assert.equal(mapState({ Status: 'created', Error: 'exec: "nope": executable file not found' }), 'failed');
    assert.equal(mapState({ Status: 'restarting' }), 'pending');
    assert.equal(mapState({ Status: 'paused', Running: true, Paused: true }), 'temp_failed');
    assert.equal(mapState({ Status: 'exited' }), 'shutdown');
    assert.equal(mapState({ Status: 'removing' }), 'shutdown');
    assert.equal(mapState({ Status: 'dead' }), 'failed');
    assert.equal(mapState({}), 'unknown');
  });
});

describe('docker identities', () => {
  it('names containers uniquely and within what the engine accepts', () => {
    const infra = '5f0c1a2b-0000-4000-8000-000000000000';
    const node = '91d0e3f4-0000-4000-8000-000000000000';
    assert.equal(containerName(infra, 'ping-receiver', node), 'occopus-5f0c1a2b-ping-receiver-91d0e3f4');
    assert.equal(containerName(infra, 'web', node, true), `occopus-5f0c1a2b-web-${node}`);
    assert.match(containerName(infra, 'ä b/c:d', node), /^occopus-5f0c1a2b-b-c-d-91d0e3f4$/);
    assert.match(containerName(infra, 'x'.repeat(100), node), /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,80}$/);
  });
  it('reads container ids, including the Python repr Occopus stored', () => {
    const id = 'a'.repeat(64);
    assert.equal(containerIdOf(id), id);
    assert.equal(containerIdOf(`{'Id': '${id}', 'Warnings': []}`), id);
    // Short ids and names would let the engine pick another container by prefix or name.
    assert.equal(containerIdOf('aaaa'), null);
    assert.equal(containerIdOf('never-created'), null);
  });
  it('lists addresses with the chosen network first, IPv6 included, empty ones skipped', () => {
    const info = {
      NetworkSettings: {
        Networks: {
          bridge: { IPAddress: '172.17.0.5', GlobalIPv6Address: '' },
          mynet: { IPAddress: '10.5.0.2', GlobalIPv6Address: 'fd00::2' },
          none: { IPAddress: '', GlobalIPv6Address: '' },
        },
      },
    } as unknown as Parameters<typeof addressesOf>[0];
    assert.deepEqual(addressesOf(info, 'mynet'), ['10.5.0.2', 'fd00::2', '172.17.0.5']);
    assert.deepEqual(addressesOf(info), ['172.17.0.5', '10.5.0.2', 'fd00::2']);
  });
});

describe('docker endpoints', () => {
  const pem = (what: string): string => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`;
  it('reads unix, tcp, http and https endpoints', () => {
    assert.deepEqual(dockerEndpoint('unix:///var/run/docker.sock', null).options.socketPath, '/var/run/docker.sock');
    const tcp = dockerEndpoint('tcp://10.0.0.5:2375', null).options;
    assert.deepEqual([tcp.host, tcp.port, tcp.protocol, tcp.socketPath], ['10.0.0.5', 2375, 'http', undefined]);
    assert.equal(dockerEndpoint('tcp://10.0.0.5', null).options.port, 2375);
    const tls = dockerEndpoint('tcp://10.0.0.5', { ca: pem('CERTIFICATE'), cert: pem('CERTIFICATE'), key: pem('PRIVATE KEY') });
    assert.deepEqual([tls.options.protocol, tls.options.port], ['https', 2376]);
    assert.equal(dockerEndpoint('https://docker.example.org', null).options.port, 443);
    assert.equal(dockerEndpoint('http://[::1]:2375', null).options.host, '::1');
  });
  it('never lets DOCKER_HOST or DOCKER_CERT_PATH override the node definition', () => {
    const o = dockerEndpoint('unix:///run/x.sock', null).options;
    for (const k of ['host', 'port', 'ca', 'cert', 'key'] as const) assert.ok(k in o && o[k] === undefined, k);
  });
  it('refuses what is not a Docker API address, naming the forms it knows', () => {
    for (const bad of ['replace_with_your_docker_endpoint', 'ftp://x', 'unix://host/sock', 'tcp://']) {
      assert.throws(() => dockerEndpoint(bad, null), { code: 'E_DRIVER', message: /unix:\/\/\/path/ }, bad);
    }
  });
  it('checks TLS material without ever printing it', () => {
    const secret = '-----BEGIN PRIVATE KEY-----\nSECRETSECRET\n-----END PRIVATE KEY-----';
    const check = (auth: Record<string, unknown>, message: RegExp): void => {
      assert.throws(
        () => dockerEndpoint('https://user:pw@docker.example.org:2376/?token=t', auth),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'E_AUTH');
          assert.match(e.message, message);
          assert.doesNotMatch(e.message, /SECRETSECRET|pw@|token=/);
          return true;
        },
      );
    };
    check({ key: secret }, /'cert' and 'key' go together/);
    check({ cert: 'not pem', key: secret }, /'cert' must be PEM text/);
    check({ password: 'hunter2', key: secret }, /unknown key\(s\) password/);
  });
});

describe('docker origins', () => {
  it('tells the origin kinds apart', () => {
    assert.deepEqual(parseOrigin('dockerhub'), { kind: 'dockerhub' });
    assert.deepEqual(parseOrigin('local'), { kind: 'local' });
    assert.deepEqual(parseOrigin('/srv/img.tar'), { kind: 'file', path: '/srv/img.tar' });
    assert.deepEqual(parseOrigin('file:///srv/my%20img.tar'), { kind: 'file', path: '/srv/my img.tar' });
    assert.deepEqual(parseOrigin('https://s3.lpds.sztaki.hu/docker/busybox_helloworld.tar'), {
      kind: 'url',
      url: 'https://s3.lpds.sztaki.hu/docker/busybox_helloworld.tar',
    });
    assert.throws(() => parseOrigin('images/x.tar'), { code: 'E_DRIVER' });
  });
  it('shows a signed URL without its query (a credential)', () => {
    assert.equal(displayOrigin('https://u:p@s3.example.org/b/i.tar?X-Amz-Signature=abc'), 'https://s3.example.org/b/i.tar');
  });
  it('the schema accepts the examples, refuses a relative path, and knows `network`', () => {
    const base = { type: 'docker', endpoint: 'replace_with_your_docker_endpoint', image: 'busybox_helloworld', tag: 'latest' };
    assert.equal(dockerResourceSchema.safeParse({ ...base, origin: 'https://s3.lpds.sztaki.hu/docker/busybox_helloworld.tar' }).success, true);
    assert.equal(dockerResourceSchema.safeParse({ ...base, origin: '/srv/x.tar', network: 'occo' }).success, true);
    assert.equal(dockerResourceSchema.safeParse({ ...base, origin: 'images/x.tar' }).success, false);
    assert.equal(dockerResourceSchema.safeParse({ ...base, origin: 'dockerhub', network: '' }).success, false);
  });
});

/** A minimal ustar archive of empty files. */
function tar(names: string[]): Buffer {
  const blocks: Buffer[] = [];
  for (const name of names) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write('00000000000\0', 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\x0000', 257, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    blocks.push(h);
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

describe('docker image archives', () => {
  const write = (name: string, data: Buffer): string => {
    const p = join(tmp, name);
    writeFileSync(p, data);
    return p;
  };
  it('a root filesystem is imported, a docker save archive loaded (plain or gzipped)', async () => {
    assert.equal(await archiveKind(write('rootfs.tar', tar(['./', './bin/', './bin/busybox', './root/start.sh']))), 'rootfs');
    assert.equal(await archiveKind(write('saved.tar', tar(['abc/layer.tar', 'abc/json', 'manifest.json', 'repositories']))), 'saved-image');
    assert.equal(await archiveKind(write('saved.tar.gz', gzipSync(tar(['blobs/', 'oci-layout', 'index.json'])))), 'saved-image');
    // A manifest.json somewhere inside a root filesystem does not make it an image archive.
    assert.equal(await archiveKind(write('deep.tar', tar(['./etc/app/manifest.json']))), 'rootfs');
    assert.equal(await archiveKind(write('junk.bin', Buffer.from([0x42, 0x5a, 0x68, 0x39, 0, 1, 2]))), 'rootfs');
  });
});
