/**
 * A client written against Occopus 1.10's REST API only (runtime §8.3: its routes, its request
 * bodies, its response fields), as a Python script with `requests` would talk to it: raw YAML
 * bodies without a Content-Type, no token (the service runs with authentication off, which only a
 * loopback address allows), errors read from `status_code`/`reason` in the body. The one thing it
 * may do differently is look at the HTTP status.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DUMMY_NODES, rawRequest, startService, waitFor, type Running } from './helpers.js';

/** What an Occopus client sees of an answer: the HTTP status and the JSON body. */
interface Answer {
  ok: boolean;
  status: number;
  body: Record<string, unknown>;
}

class OccopusRestClient {
  constructor(private readonly base: string) {}

  private async call(method: string, path: string, data?: string): Promise<Answer> {
    const res = await rawRequest(this.base, method, path, data);
    return { ok: res.status >= 200 && res.status < 300, status: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
  }

  submit(yaml: string) {
    return this.call('POST', '/infrastructures/', yaml);
  }
  list() {
    return this.call('GET', '/infrastructures/');
  }
  state(id: string) {
    return this.call('GET', `/infrastructures/${id}`);
  }
  scaleup(id: string, node: string, count?: number) {
    return this.call('POST', `/infrastructures/${id}/scaleup/${node}${count === undefined ? '' : `/${count}`}`);
  }
  scaledown(id: string, node: string, nodeid?: string) {
    return this.call('POST', `/infrastructures/${id}/scaledown/${node}${nodeid === undefined ? '' : `/${nodeid}`}`);
  }
  scaleto(id: string, node: string, count: number) {
    return this.call('POST', `/infrastructures/${id}/scaleto/${node}/${count}`);
  }
  attach(id: string) {
    return this.call('POST', `/infrastructures/${id}/attach`);
  }
  detach(id: string) {
    return this.call('POST', `/infrastructures/${id}/detach`);
  }
  notify(id: string, json: string) {
    return this.call('POST', `/infrastructures/${id}/notify`, json);
  }
  cost(id: string) {
    return this.call('GET', `/infrastructures/${id}/cost`);
  }
  delete(id: string) {
    return this.call('DELETE', `/infrastructures/${id}`);
  }
}

interface OccopusNode {
  instances: Record<string, { resource_address: string | string[]; state: string }>;
  scaling: { actual: number; target: number; min: number; max: number };
}

const DESCRIPTION = readFileSync(join(import.meta.dirname, 'fixtures', 'occopus-client-infra.yaml'), 'utf8');
const NODE_NAMES = ['db', 'web'];

let s: Running;
let client: OccopusRestClient;
before(async () => {
  s = await startService({ service: { auth: false } });
  // Node definitions are imported out of band (Occopus users ran occopus-import).
  assert.equal((await s.api('PUT', '/nodedefinitions', DUMMY_NODES)).status, 200);
  client = new OccopusRestClient(s.url);
});
after(async () => {
  await s.stop();
});

/** The client's own "wait until ready" loop: every node of ITS description, by name. */
async function waitReady(id: string, counts: Record<string, number>): Promise<Record<string, OccopusNode>> {
  return waitFor(async () => {
    const r = await client.state(id);
    if (!r.ok) return undefined;
    for (const name of NODE_NAMES) {
      const node = r.body[name] as OccopusNode | undefined;
      const states = Object.values(node?.instances ?? {}).map((i) => i.state);
      if (states.length !== counts[name] || states.some((st) => st !== 'ready')) return undefined;
    }
    return Object.fromEntries(NODE_NAMES.map((n) => [n, r.body[n] as OccopusNode]));
  }, `nodes ready ${JSON.stringify(counts)}`);
}

describe('an Occopus REST client, unchanged', () => {
  let id = '';

  test('submits a description and follows it until every node is ready', async () => {
    const r = await client.submit(DESCRIPTION);
    assert.ok(r.ok, JSON.stringify(r.body));
    id = r.body.infraid as string;
    const listed = await client.list();
    assert.ok((listed.body.infrastructures as string[]).includes(id));
    const nodes = await waitReady(id, { db: 1, web: 1 });
    assert.deepEqual(nodes.web?.scaling, { actual: 1, target: 1, min: 1, max: 2 });
  });

  test('scales with the documented answers', async () => {
    assert.deepEqual((await client.scaleup(id, 'web')).body.method, 'scaleup');
    assert.equal((await client.scaleup(id, 'web')).body.count, 1);
    const nodes = await waitReady(id, { db: 1, web: 2 });
    const [victim] = Object.entries(nodes.web?.instances ?? {});
    assert.ok(victim);
    const down = await client.scaledown(id, 'web', String(victim[1].resource_address));
    assert.equal(down.body.nodeid, victim[1].resource_address);
    const after = await waitReady(id, { db: 1, web: 1 });
    assert.ok(!(victim[0] in (after.web?.instances ?? {})));
    assert.equal((await client.scaleto(id, 'web', 2)).body.count, 2);
    await waitReady(id, { db: 1, web: 2 });
    assert.equal((await client.scaledown(id, 'web')).body.nodeid, null);
    await waitReady(id, { db: 1, web: 1 });
  });

  test('notify, cost, detach and attach', async () => {
    assert.equal((await client.notify(id, '{"type": "none"}')).body.infraid, id);
    const cost = await client.cost(id);
    assert.equal(cost.body.totalcost, 0);
    assert.equal((await client.detach(id)).body.infraid, id);
    assert.equal((await client.attach(id)).body.infraid, id);
  });

  test('reads errors from status_code and reason, as it always did', async () => {
    const again = await client.attach(id);
    assert.equal(again.body.status_code, again.status);
    assert.match(again.body.reason as string, /already being maintained/);
    const ghost = await client.scaleup(id, 'ghost');
    assert.equal(ghost.body.status_code, 404);
    assert.match(ghost.body.reason as string, /^ERROR: node 'ghost' does not exist/);
    const empty = await client.submit('');
    assert.equal(empty.body.status_code, 400);
    assert.equal(empty.body.reason, 'Empty POST data');
    assert.equal(typeof empty.body.message, 'string');
  });

  test('deletes it, and then it does not exist', async () => {
    const r = await client.delete(id);
    assert.ok(r.ok, JSON.stringify(r.body));
    assert.equal(r.body.infraid, id);
    const gone = await client.state(id);
    assert.equal(gone.body.status_code, 404);
    assert.equal(gone.body.reason, `ERROR: infrastructure '${id}' does not exist!`);
    assert.ok(!((await client.list()).body.infrastructures as string[]).includes(id));
  });
});
