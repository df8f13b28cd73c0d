/**
 * The REST service over real HTTP (a random loopback port) with the `dummy` driver: every route,
 * every error status, the event stream of a build, and scaling requests carried out by the
 * service's own maintainer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { listDummyInstances } from '../../src/drivers/dummy/index.js';
import { importNodeDefinitions } from '../../src/api/import.js';
import { sharedExamples } from '../helpers/cli.js';
import { leaseKey } from '../../src/api/lease.js';
import {
  DUMMY_NODES,
  INFRA,
  TOKEN,
  rawRequest,
  readSse,
  startService,
  waitFor,
  waitForCounts,
  type ReportNode,
  type Running,
} from './helpers.js';

type Report = { server: ReportNode; client: ReportNode; extra?: ReportNode } & {
  _meta: { infra_id: string; observed_at: string; source: string; maintained: boolean; maintainer: { holder: string } | null; passes?: number };
};
type ErrorBody = { status_code: number; reason: string; message: string; code: string; request_id?: string };

let s: Running;
before(async () => {
  s = await startService();
});
after(async () => {
  await s.stop();
});

async function report(infraId: string): Promise<Report> {
  const r = await s.json<Report>('GET', `/infrastructures/${infraId}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** Waits until the maintainer has taken every pending scaling request. */
async function consumed(infraId: string): Promise<void> {
  await waitFor(async () => ((await s.app.store.peekScalingRequests(infraId)).length === 0 ? true : undefined), 'the requests to be consumed');
}

async function expectError(res: Response, status: number, reason?: RegExp): Promise<ErrorBody> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as ErrorBody;
  assert.equal(body.status_code, status);
  assert.equal(typeof body.reason, 'string');
  assert.equal(typeof body.message, 'string');
  if (reason) assert.match(body.reason, reason);
  return body;
}

describe('authentication', () => {
  test('/health answers without a token; every other route needs it', async () => {
    const health = await fetch(`${s.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });

    for (const [method, path] of [
      ['GET', '/infrastructures/'],
      ['POST', '/infrastructures/'],
      ['GET', '/metrics'],
      ['PUT', '/nodedefinitions'],
      ['GET', '/openapi.json'],
      ['GET', '/no/such/route'],
    ] as const) {
      const res = await fetch(`${s.url}${path}`, { method });
      const body = await expectError(res, 401, /token is required/);
      assert.equal(body.code, 'E_UNAUTHORIZED');
      assert.ok(res.headers.get('www-authenticate'), `${method} ${path} names the scheme`);
    }
  });

  test('a wrong token is refused; Basic is accepted only for the documentation', async () => {
    await expectError(await s.api('GET', '/infrastructures/', undefined, { authorization: 'Bearer nope' }), 401, /invalid API token/);
    const basic = `Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}`;
    await expectError(await s.api('GET', '/infrastructures/', undefined, { authorization: basic }), 401);
    const docs = await s.api('GET', '/openapi.json', undefined, { authorization: basic });
    assert.equal(docs.status, 200);
    const page = await fetch(`${s.url}/docs`, { headers: { authorization: basic }, redirect: 'follow' });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /swagger/i);
    const challenge = await fetch(`${s.url}/docs`);
    assert.equal(challenge.status, 401);
    assert.match(challenge.headers.get('www-authenticate') ?? '', /^Basic /);
  });

  test('unknown routes are 404 with the Occopus error body; there is no /info gateway', async () => {
    const body = await expectError(await s.api('GET', '/info/node.state?infra_id=x'), 404);
    assert.equal(body.code, 'E_NOT_FOUND');
    await expectError(await s.api('PATCH', '/infrastructures/'), 404);
  });
});

describe('node definitions and validation', () => {
  test('PUT /nodedefinitions imports; GET lists the types', async () => {
    const r = await s.json<{ imported: string[] }>('PUT', '/nodedefinitions', DUMMY_NODES);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.imported, ['dummy_server', 'dummy_client']);
    const list = await s.json<{ types: string[] }>('GET', '/nodedefinitions');
    assert.deepEqual([...list.body.types].sort(), ['dummy_client', 'dummy_server']);
  });

  test('import tags are refused (a client cannot read the server files) and nothing is stored', async () => {
    const body = await expectError(
      await s.api('PUT', '/nodedefinitions', "'node_def:leak':\n  - !yaml_import {url: 'file:///etc/passwd'}\n"),
      422,
    );
    assert.match(body.message, /!yaml_import is not allowed here/);
    assert.doesNotMatch(JSON.stringify(body), /root:/);
    const list = await s.json<{ types: string[] }>('GET', '/nodedefinitions');
    assert.ok(!list.body.types.includes('leak'));
  });

  test('a node definition that breaks the schema is a 422 naming the place; an empty body a 400', async () => {
    const body = await expectError(await s.api('PUT', '/nodedefinitions', "'node_def:bad':\n  - resource: {type: dummy, ready_delay: soon}\n"), 422);
    assert.equal(body.code, 'E_SCHEMA');
    assert.match(body.message, /<request body>:2:/);
    await expectError(await s.api('PUT', '/nodedefinitions', ''), 400, /Empty PUT data/);
    await expectError(await s.api('PUT', '/nodedefinitions', 'a: [b'), 400, /not a well-formed YAML/);
  });

  test('POST /validate is a dry run: levels and implementations, nothing stored', async () => {
    const before = await s.json<{ infrastructures: string[] }>('GET', '/infrastructures/');
    const r = await s.json<{ valid: boolean; levels: string[][]; nodes: Array<{ name: string; implementations: Array<Record<string, unknown>> }> }>(
      'POST',
      '/validate',
      INFRA,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.valid, true);
    assert.deepEqual(r.body.levels, [['server'], ['client']]);
    assert.deepEqual(r.body.nodes[0]?.implementations, [{ index: 0, resource_type: 'dummy' }]);
    const rendered = await s.json<{ nodes: Array<{ implementations: Array<{ resolved?: { resource?: unknown } }> }> }>('POST', '/validate?render=true', INFRA);
    assert.deepEqual(rendered.body.nodes[0]?.implementations[0]?.resolved?.resource, { type: 'dummy', ready_delay: 0.2 });
    const afterList = await s.json<{ infrastructures: string[] }>('GET', '/infrastructures/');
    assert.deepEqual(afterList.body.infrastructures, before.body.infrastructures);
  });

  test("the Occopus examples' descriptions validate unchanged; their node files need occopus-import", async () => {
    const examples = readdirSync(sharedExamples);
    assert.ok(examples.length > 0, `no examples in ${sharedExamples}`);
    for (const name of examples) {
      const dir = join(sharedExamples, name);
      const infra = readdirSync(dir).find((f) => f.startsWith('infra-') && f.endsWith('.yaml'));
      assert.ok(infra, name);
      const nodes = join(dir, 'nodes', 'node_definitions.yaml');
      const nodesText = readFileSync(nodes, 'utf8');
      if (nodesText.includes('!text_import') || nodesText.includes('!yaml_import')) {
        // Over REST a body cannot make the server read files; the CLI import (server side) can.
        const refused = await expectError(await s.api('PUT', '/nodedefinitions', nodesText), 422);
        assert.match(refused.message, /not allowed here: imports are disabled/);
        await importNodeDefinitions(nodes, s.app.store);
      } else {
        assert.equal((await s.api('PUT', '/nodedefinitions', nodesText)).status, 200, name);
      }
      const r = await s.api('POST', '/validate', readFileSync(join(dir, infra), 'utf8'));
      assert.equal(r.status, 200, `${name}: ${await r.clone().text()}`);
    }
  });

  test('/validate: a node type without definitions or a dependency cycle is a 422', async () => {
    const missing = await expectError(await s.api('POST', '/validate', 'infra_name: x\nuser_id: y\nnodes:\n  - {name: a, type: nothing_like_it}\n'), 422);
    assert.equal(missing.code, 'E_NO_MATCHING_NODE_DEFINITION');
    const cycle = await expectError(
      await s.api(
        'POST',
        '/validate',
        'infra_name: x\nuser_id: y\nnodes:\n  - &A {name: a, type: dummy_server}\n  - &B {name: b, type: dummy_server}\ndependencies:\n  - [*A, *B]\n  - [*B, *A]\n',
      ),
      422,
    );
    assert.equal(cycle.code, 'E_COMPILE');
  });
});

describe('an infrastructure over REST', () => {
  let infraId = '';

  test('POST /infrastructures/ takes raw YAML without a Content-Type and the stream shows the build', async () => {
    const posted = await rawRequest(s.url, 'POST', '/infrastructures/', INFRA, { authorization: `Bearer ${TOKEN}` });
    assert.equal(posted.status, 200, posted.text);
    infraId = (JSON.parse(posted.text) as { infraid: string }).infraid;
    assert.match(infraId, /^[0-9a-f-]{36}$/);

    const stream = await s.api('GET', `/infrastructures/${infraId}/events`, undefined, { accept: 'text/event-stream' });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    const messages = await readSse(stream, (m) => m.some((e) => e.event === 'infraready'));
    const names = messages.map((m) => m.event);
    assert.ok(names.includes('infraready'), `events: ${names.join(', ')}`);
    assert.equal(names.filter((n) => n === 'nodecreated').length, 2, names.join(', '));
    // Dependencies: the server was created before the client started.
    const created = messages.filter((m) => m.event === 'nodecreated').map((m) => (JSON.parse(m.data) as { data: { node_name: string } }).data.node_name);
    assert.deepEqual(created, ['server', 'client']);
    const ids = messages.map((m) => Number(m.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ids are increasing sequence numbers');

    // Reconnecting with Last-Event-ID replays only what came after.
    const lastCreated = messages.find((m) => m.event === 'nodecreated');
    const replay = await s.api('GET', `/infrastructures/${infraId}/events?follow=false`, undefined, { 'last-event-id': String(lastCreated?.id) });
    const rest = await readSse(replay, () => false);
    assert.ok(rest.length > 0);
    assert.ok(rest.every((m) => Number(m.id) > Number(lastCreated?.id)));
    const fromQuery = await readSse(await s.api('GET', `/infrastructures/${infraId}/events?follow=false&after=${lastCreated?.id}`), () => false);
    assert.deepEqual(fromQuery.map((m) => m.id), rest.map((m) => m.id));
  });

  test('GET /infrastructures/{id} serves the report the maintainer stored, in the Occopus shape', async () => {
    const rep = await waitForCounts(() => report(infraId), { server: 1, client: 1 });
    const full = rep as unknown as Report;
    assert.deepEqual(Object.keys(full).sort(), ['_meta', 'client', 'server']);
    assert.deepEqual(full.client.scaling, { actual: 1, target: 1, min: 1, max: 3 });
    const [inst] = Object.values(full.server.instances);
    assert.equal(inst?.state, 'ready');
    assert.match(String(inst?.resource_address), /^127\.1\.\d+\.\d+$/);
    assert.equal(full._meta.source, 'maintainer');
    assert.equal(full._meta.maintained, true);
    assert.match(full._meta.maintainer?.holder ?? '', /^maintain@/);
    assert.ok(Date.now() - Date.parse(full._meta.observed_at) < 60_000);
    const res = await s.api('GET', `/infrastructures/${infraId}`);
    assert.ok(res.headers.get('last-modified'));
  });

  test('GET /infrastructures/ lists it under both the documented and the misspelt Occopus key', async () => {
    const r = await s.json<{ infrastructures: string[]; infrastuctures: string[]; maintained: string[] }>('GET', '/infrastructures');
    assert.ok(r.body.infrastructures.includes(infraId));
    assert.deepEqual(r.body.infrastuctures, r.body.infrastructures);
    assert.ok(r.body.maintained.includes(infraId));
  });

  test('scaleup is carried out by the maintainer; a request beyond max says so', async () => {
    const up = await s.json('POST', `/infrastructures/${infraId}/scaleup/client/2`);
    assert.equal(up.status, 200);
    assert.deepEqual(up.body, { method: 'scaleup', infraid: infraId, nodename: 'client', count: 2 });
    await waitForCounts(() => report(infraId), { server: 1, client: 3 });

    const beyond = await s.json<{ notes?: string[] }>('POST', `/infrastructures/${infraId}/scaleup/client`);
    assert.equal(beyond.status, 200);
    assert.match(beyond.body.notes?.[0] ?? '', /at most 3 instance/);
    const zero = await s.json('POST', `/infrastructures/${infraId}/scaleup/client/0`);
    assert.deepEqual(zero.body, { method: 'scaleup', infraid: infraId, nodename: 'client', count: 0 });
    await consumed(infraId);
  });

  test('scaledown by node id and by address, scaledown without one, scaleto', async () => {
    const clients = Object.entries((await report(infraId)).client.instances);
    const [byId, byAddress] = clients;
    assert.ok(byId && byAddress);
    const r1 = await s.json('POST', `/infrastructures/${infraId}/scaledown/client/${byId[0]}`);
    assert.deepEqual(r1.body, { method: 'scaledown', infraid: infraId, nodename: 'client', nodeid: byId[0] });
    const r2 = await s.json('POST', `/infrastructures/${infraId}/scaledown/client/${String(byAddress[1].resource_address)}`);
    assert.equal(r2.status, 200);
    const after = await waitForCounts(() => report(infraId), { server: 1, client: 1 });
    const left = Object.keys(after.client?.instances ?? {});
    assert.ok(!left.includes(byId[0]) && !left.includes(byAddress[0]), 'the named instances were dropped');

    const to = await s.json('POST', `/infrastructures/${infraId}/scaleto/client/2`);
    assert.deepEqual(to.body, { method: 'scaleto', infraid: infraId, nodename: 'client', count: 2 });
    await waitForCounts(() => report(infraId), { server: 1, client: 2 });
    const down = await s.json('POST', `/infrastructures/${infraId}/scaledown/client`);
    assert.deepEqual(down.body, { method: 'scaledown', infraid: infraId, nodename: 'client', nodeid: null });
    await waitForCounts(() => report(infraId), { server: 1, client: 1 });
    const below = await s.json<{ notes?: string[] }>('POST', `/infrastructures/${infraId}/scaleto/client/0`);
    assert.match(below.body.notes?.[0] ?? '', /at least 1 instance/);
  });

  test('scaling errors: unknown infrastructure or node (404), a count that is not a number (400)', async () => {
    await expectError(await s.api('POST', `/infrastructures/nope/scaleup/client`), 404, /^ERROR: infrastructure 'nope' does not exist!$/);
    await expectError(
      await s.api('POST', `/infrastructures/${infraId}/scaleup/ghost`),
      404,
      new RegExp(`^ERROR: node 'ghost' does not exist in infrastructure '${infraId}'!$`),
    );
    await expectError(await s.api('POST', `/infrastructures/${infraId}/scaleup/client/two`), 400);
    await expectError(await s.api('POST', `/infrastructures/${infraId}/scaleto/client/-1`), 400);
  });

  test('notify stores a JSON object and never gives it back; bad bodies are 400/422', async () => {
    const secret = 'fcm-key-that-must-not-leak';
    const ok = await s.json('POST', `/infrastructures/${infraId}/notify`, JSON.stringify({ type: 'fcm', fcm: { api_key: secret, reg_id: 'r' } }));
    assert.deepEqual(ok.body, { infraid: infraId });
    assert.deepEqual(await s.app.store.getInfraMeta(infraId, 'notification'), { type: 'fcm', fcm: { api_key: secret, reg_id: 'r' } });
    for (const path of [`/infrastructures/${infraId}`, '/infrastructures/', `/infrastructures/${infraId}/events?follow=false`, '/metrics']) {
      assert.ok(!(await (await s.api('GET', path)).text()).includes(secret), path);
    }
    await expectError(await s.api('POST', `/infrastructures/${infraId}/notify`, 'not json'), 400);
    await expectError(await s.api('POST', `/infrastructures/${infraId}/notify`, '[1, 2]'), 422);
    await expectError(await s.api('POST', `/infrastructures/${infraId}/notify`, ''), 400, /Empty POST data/);
    await expectError(await s.api('POST', '/infrastructures/nope/notify', '{}'), 404);
  });

  test('cost: totalcost and a map per node (drivers without a cost API count 0)', async () => {
    const r = await s.json<Record<string, unknown>>('GET', `/infrastructures/${infraId}/cost`);
    assert.equal(r.status, 200);
    assert.equal(r.body.totalcost, 0);
    const rep = await report(infraId);
    assert.deepEqual(Object.keys(r.body.server as object), Object.keys(rep.server.instances));
    await expectError(await s.api('GET', '/infrastructures/nope/cost'), 404);
  });

  test('detach and attach, with 409 when already (not) maintained', async () => {
    assert.deepEqual((await s.json('POST', `/infrastructures/${infraId}/detach`)).body, { infraid: infraId });
    await expectError(await s.api('POST', `/infrastructures/${infraId}/detach`), 409, /is not maintained!$/);
    assert.equal((await report(infraId))._meta.maintained, false);
    assert.equal(await s.app.store.getInfraMeta(infraId, 'maintained'), null);
    assert.deepEqual((await s.json('POST', `/infrastructures/${infraId}/attach`)).body, { infraid: infraId });
    await expectError(await s.api('POST', `/infrastructures/${infraId}/attach`), 409, /already being maintained!$/);
    await expectError(await s.api('POST', '/infrastructures/nope/attach'), 404);
    await expectError(await s.api('POST', '/infrastructures/nope/detach'), 404);
  });

  test('PUT /infrastructures/{id} reconfigures: the maintainer adds the new node type', async () => {
    const changed = `${INFRA}  - [*E, *S]\n`.replace(
      "  - &C {name: client, type: dummy_client, scaling: {min: 1, max: 3}}\n",
      "  - &C {name: client, type: dummy_client, scaling: {min: 1, max: 3}}\n  - &E {name: extra, type: dummy_client}\n",
    );
    const r = await s.json('PUT', `/infrastructures/${infraId}`, changed);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitForCounts(() => report(infraId), { server: 1, client: 1, extra: 1 });
    await expectError(await s.api('PUT', `/infrastructures/${infraId}`, 'infra_name: x\nnodes: 3\n'), 422);
    await expectError(await s.api('PUT', `/infrastructures/${infraId}`, ''), 400);
    await expectError(await s.api('PUT', '/infrastructures/nope', INFRA), 404);
    // The rejected bodies changed nothing.
    assert.ok((await report(infraId)).extra);
  });

  test('/metrics: infrastructures, instances by state, passes and their durations', async () => {
    const res = await s.api('GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^occopus_infrastructures 1$/m);
    assert.match(text, /^occopus_infrastructures_maintained 1$/m);
    assert.match(text, new RegExp(`^occopus_instances\\{infra_id="${infraId}",node="server",state="ready"\\} 1$`, 'm'));
    const passes = Number(new RegExp(`^occopus_maintenance_passes_total\\{infra_id="${infraId}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    assert.ok(passes >= 3, text);
    assert.match(text, /^occopus_maintenance_pass_duration_seconds_count [1-9]\d*$/m);
    assert.match(text, /^occopus_maintenance_pass_duration_seconds_bucket\{le="\+Inf"\} [1-9]\d*$/m);
    assert.match(text, /^occopus_http_requests_total\{method="POST",route="\/infrastructures\/:infraid\/scaleup\/:nodename\/:count",status="200"\} \d+$/m);
  });

  test('DELETE is refused (409) while another process holds the lease, then destroys everything', async () => {
    // Another maintainer (e.g. occopus-maintain -c on another host) takes the lease as soon as ours lets go.
    await s.json('POST', `/infrastructures/${infraId}/detach`);
    assert.ok(await s.app.store.acquireLease(leaseKey(infraId), 'maintain@elsewhere:1:abc', 60_000));
    await expectError(await s.api('DELETE', `/infrastructures/${infraId}`), 409, /being maintained by maintain@elsewhere/);
    await s.app.store.releaseLease(leaseKey(infraId), 'maintain@elsewhere:1:abc');
    await s.json('POST', `/infrastructures/${infraId}/attach`);

    const r = await s.json('DELETE', `/infrastructures/${infraId}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { infraid: infraId });
    assert.deepEqual((await listDummyInstances(s.app.store)).filter((i) => i.infra_id === infraId), []);
    await expectError(await s.api('GET', `/infrastructures/${infraId}`), 404);
    await expectError(await s.api('DELETE', `/infrastructures/${infraId}`), 404);
    await expectError(await s.api('GET', `/infrastructures/${infraId}/events`), 404);
    assert.deepEqual((await s.json<{ maintained: string[] }>('GET', '/infrastructures/')).body.maintained, []);
  });
});

describe('submitting bad descriptions', () => {
  test('empty body 400, malformed YAML 400, schema problems and import tags 422; nothing stored', async () => {
    const before = (await s.json<{ infrastructures: string[] }>('GET', '/infrastructures/')).body.infrastructures;
    await expectError(await s.api('POST', '/infrastructures/', ''), 400, /^Empty POST data$/);
    await expectError(await s.api('POST', '/infrastructures/', 'nodes: [\n'), 400);
    const schema = await expectError(await s.api('POST', '/infrastructures/', 'infra_name: x\nuser_id: y\nnodes:\n  - {name: a}\n'), 422);
    assert.equal(schema.code, 'E_SCHEMA');
    const tag = await expectError(await s.api('POST', '/infrastructures/', "infra_name: x\nuser_id: y\nnodes: !yaml_import {url: 'file:///etc/hostname'}\n"), 422);
    assert.equal(tag.code, 'E_YAML');
    const python = await expectError(await s.api('POST', '/infrastructures/', "infra_name: !!python/object/apply:os.system ['id']\n"), 422);
    assert.equal(python.code, 'E_YAML');
    assert.deepEqual((await s.json<{ infrastructures: string[] }>('GET', '/infrastructures/')).body.infrastructures, before);
  });

  test('JSON bodies work like YAML', async () => {
    const json = JSON.stringify({ infra_name: 'j', user_id: 'u', nodes: [{ name: 'solo', type: 'dummy_server' }] });
    const res = await s.api('POST', '/infrastructures/', json, { 'content-type': 'application/json' });
    const r = { status: res.status, body: (await res.json()) as { infraid: string } };
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitForCounts(() => report(r.body.infraid), { solo: 1 });
    assert.equal((await s.json('DELETE', `/infrastructures/${r.body.infraid}`)).status, 200);
  });
});

describe('the OpenAPI document', () => {
  test('is generated from the route schemas and names every route', async () => {
    const doc = (await (await s.api('GET', '/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.match(doc.openapi, /^3\./);
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    for (const r of [
      'POST /infrastructures/',
      'GET /infrastructures/',
      'GET /infrastructures/{infraid}',
      'PUT /infrastructures/{infraid}',
      'DELETE /infrastructures/{infraid}',
      'POST /infrastructures/{infraid}/attach',
      'POST /infrastructures/{infraid}/detach',
      'POST /infrastructures/{infraid}/scaleup/{nodename}',
      'POST /infrastructures/{infraid}/scaleup/{nodename}/{count}',
      'POST /infrastructures/{infraid}/scaledown/{nodename}',
      'POST /infrastructures/{infraid}/scaledown/{nodename}/{nodeid}',
      'POST /infrastructures/{infraid}/scaleto/{nodename}/{count}',
      'POST /infrastructures/{infraid}/notify',
      'GET /infrastructures/{infraid}/cost',
      'GET /infrastructures/{infraid}/events',
      'PUT /nodedefinitions',
      'POST /validate',
      'GET /health',
      'GET /metrics',
    ]) {
      assert.ok(routes.includes(r), `${r} is documented (have: ${routes.join(', ')})`);
    }
  });
});
