/**
 * One maintenance pass (runtime §3) on the dummy cloud: bootstrap, creates level by level,
 * replacement of failed and shut-down instances through the driver, downscale, removed node types,
 * scaling requests consumed once, journal reconciliation, and events.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { harness, dummyDefinition } from './harness.js';
import { listDummyInstances, setDummyInstanceState } from '../../../src/drivers/dummy/index.js';
import type { InfraDescription } from '../../../src/descriptors/types.js';
import type { InstanceRecord } from '../../../src/store/store.js';

const defs = {
  db: [dummyDefinition()],
  web: [dummyDefinition()],
  extra: [dummyDefinition()],
};

function twoLevels(webScaling: { min?: number; max?: number } = { min: 2, max: 5 }): InfraDescription {
  const db = { name: 'db', type: 'db' };
  const web = { name: 'web', type: 'web', scaling: webScaling };
  return { infra_name: 'shop', user_id: 'u', nodes: [db, web], dependencies: [[web, db]] };
}

const byName = (records: InstanceRecord[], name: string) => records.filter((r) => r.node_name === name);

describe('enactor pass', () => {
  test('builds every node to its minimum, dependees first, and bootstraps once', async () => {
    const h = await harness(defs);
    const sd = await h.submit(twoLevels());
    const result = await h.pass(sd.infra_id);
    assert.equal(result.ready, true);
    const records = await h.store.listInstances(sd.infra_id);
    assert.equal(byName(records, 'db').length, 1);
    assert.equal(byName(records, 'web').length, 2);
    assert.ok(records.every((r) => r.lifecycle === 'created'));

    const order = h.events.filter((e) => e.name === 'nodecreating' || e.name === 'nodecreated').map((e) => `${e.name}:${String(e.data.node_name)}`);
    assert.ok(order.indexOf('nodecreated:db') < order.indexOf('nodecreating:web'), order.join(' '));

    await h.pass(sd.infra_id);
    assert.equal(h.named('infrastart').length, 1, 'CreateInfrastructure runs once (runtime §10.20)');
    assert.equal(h.named('infraready').length, 1, 'infraready only when the state changes');
    assert.equal((await h.store.listInstances(sd.infra_id)).length, 3, 'a second pass changes nothing');
  });

  test('a failed instance is archived, dropped through its driver and replaced', async () => {
    const h = await harness(defs);
    const sd = await h.submit(twoLevels());
    await h.pass(sd.infra_id);
    const [victim] = byName(await h.store.listInstances(sd.infra_id), 'web');
    assert.ok(victim?.instance_id);
    await setDummyInstanceState(h.store, victim.instance_id, 'failed');
    const result = await h.pass(sd.infra_id);
    assert.equal(result.ready, true);

    const web = byName(await h.store.listInstances(sd.infra_id), 'web');
    assert.equal(web.length, 2);
    assert.ok(!web.some((r) => r.node_id === victim.node_id));
    assert.deepEqual((await h.store.listFailedInstances(sd.infra_id)).map((r) => r.node_id), [victim.node_id]);
    assert.ok(!(await listDummyInstances(h.store)).some((i) => i.instance_id === victim.instance_id), 'the cloud resource is gone');
    assert.equal(h.named('nodefailed').length, 1);
    assert.equal(h.named('infraready').length, 2, 'ready again after having been degraded');
  });

  test('a shut-down instance is dropped through its driver (Occopus leaked it) and replaced, not archived', async () => {
    const h = await harness(defs);
    const sd = await h.submit(twoLevels({}));
    await h.pass(sd.infra_id);
    const [db] = byName(await h.store.listInstances(sd.infra_id), 'db');
    assert.ok(db?.instance_id);
    await setDummyInstanceState(h.store, db.instance_id, 'shutdown');
    await h.pass(sd.infra_id);
    const after = byName(await h.store.listInstances(sd.infra_id), 'db');
    assert.equal(after.length, 1);
    assert.notEqual(after[0]?.node_id, db.node_id);
    assert.deepEqual(await h.store.listFailedInstances(sd.infra_id), []);
    assert.ok(!(await listDummyInstances(h.store)).some((i) => i.instance_id === db.instance_id));
  });

  test('scaling requests are consumed once: up, down by id, down to min', async () => {
    const h = await harness(defs);
    const sd = await h.submit(twoLevels());
    await h.pass(sd.infra_id);
    await h.store.addScalingRequests(sd.infra_id, [{ node: 'web', kind: 'create', count: 2 }]);
    await h.pass(sd.infra_id);
    assert.deepEqual(await h.store.peekScalingRequests(sd.infra_id), []);
    let web = byName(await h.store.listInstances(sd.infra_id), 'web');
    assert.equal(web.length, 4);

    const named = web[0] as InstanceRecord;
    await h.store.addScalingRequests(sd.infra_id, [{ node: 'web', kind: 'destroy', selector: named.node_id }]);
    await h.pass(sd.infra_id);
    web = byName(await h.store.listInstances(sd.infra_id), 'web');
    assert.equal(web.length, 3);
    assert.ok(!web.some((r) => r.node_id === named.node_id));

    // A further pass must not lower the count again (runtime §10.11).
    await h.pass(sd.infra_id);
    assert.equal(byName(await h.store.listInstances(sd.infra_id), 'web').length, 3);

    await h.store.addScalingRequests(sd.infra_id, Array.from({ length: 5 }, () => ({ node: 'web', kind: 'destroy' as const, selector: null })));
    await h.pass(sd.infra_id);
    assert.equal(byName(await h.store.listInstances(sd.infra_id), 'web').length, 2, 'not below min');
    const scaling = h.named('scaling').at(-1);
    assert.match(JSON.stringify(scaling?.data.notes), /minimum is 2/);
  });

  test('downscale drops the youngest instances', async () => {
    const h = await harness(defs);
    const sd = await h.submit(twoLevels());
    await h.pass(sd.infra_id);
    await h.store.addScalingRequests(sd.infra_id, [{ node: 'web', kind: 'target', count: 4 }]);
    await h.pass(sd.infra_id);
    const before = byName(await h.store.listInstances(sd.infra_id), 'web');
    const oldest = [...before].sort((a, b) => (a.instance_start_time ?? 0) - (b.instance_start_time ?? 0)).slice(0, 2);
    await h.store.addScalingRequests(sd.infra_id, [{ node: 'web', kind: 'target', count: 2 }]);
    await h.pass(sd.infra_id);
    const after = byName(await h.store.listInstances(sd.infra_id), 'web');
    assert.deepEqual(after.map((r) => r.node_id).sort(), oldest.map((r) => r.node_id).sort());
  });

  test('instances of a node type removed from the description are dropped', async () => {
    const h = await harness(defs);
    const first = await h.submit({ ...twoLevels(), nodes: [...twoLevels().nodes, { name: 'extra', type: 'extra' }] });
    await h.pass(first.infra_id);
    assert.equal(byName(await h.store.listInstances(first.infra_id), 'extra').length, 1);
    await h.submit(twoLevels(), first.infra_id);
    await h.pass(first.infra_id);
    const records = await h.store.listInstances(first.infra_id);
    assert.equal(byName(records, 'extra').length, 0);
    assert.equal(records.length, 3);
    assert.equal((await listDummyInstances(h.store)).length, 3, 'the cloud holds exactly what the store knows');
  });

  test('journal records left by a crash are adopted when found, forgotten when not', async () => {
    const h = await harness(defs);
    const sd = await h.submit(twoLevels({}));
    await h.pass(sd.infra_id);
    const [db] = byName(await h.store.listInstances(sd.infra_id), 'db');
    assert.ok(db);
    // Simulate a crash right after the driver's create returned but before the journal was updated.
    await h.store.updateInstance(sd.infra_id, db.node_id, { lifecycle: 'creating', instance_id: null });
    // And one right after journaling, before the driver was called.
    await h.store.insertInstance({ ...db, node_id: 'ghost', lifecycle: 'creating', instance_id: null, node_name: 'web' });
    await h.pass(sd.infra_id);
    const records = await h.store.listInstances(sd.infra_id);
    const adopted = records.find((r) => r.node_id === db.node_id);
    assert.equal(adopted?.lifecycle, 'created');
    assert.equal(adopted?.instance_id, db.instance_id);
    assert.ok(!records.some((r) => r.node_id === 'ghost'));
    assert.equal(h.named('nodeadopted').length, 1);
    assert.equal(records.length, 2);
    assert.equal((await listDummyInstances(h.store)).length, 2);
  });

  test('a create that misses its deadline is dropped and fails the pass', async () => {
    const h = await harness({ slow: [dummyDefinition({ ready_delay: 30 })] });
    const sd = await h.submit({ infra_name: 'slow', user_id: 'u', nodes: [{ name: 'slow', type: 'slow', create_timeout: 0.3 }] });
    await assert.rejects(h.pass(sd.infra_id), /not ready after 0\.3s/);
    assert.deepEqual(await h.store.listInstances(sd.infra_id), []);
    assert.deepEqual(await listDummyInstances(h.store), []);
  });

  test('parallel: a failed create cancels its in-flight siblings, which roll back', async () => {
    const h = await harness({
      slow: [dummyDefinition({ create_delay: 0.2, ready_delay: 5 })],
      broken: [dummyDefinition({ create_delay: 0.05, failure_rate: 1 })],
    });
    const sd = await h.submit({
      infra_name: 'par',
      user_id: 'u',
      nodes: [
        { name: 'a', type: 'slow', scaling: { min: 3 } },
        { name: 'b', type: 'broken' },
      ],
    });
    const started = Date.now();
    await assert.rejects(h.pass(sd.infra_id, 'parallel'), /node 'b'/);
    assert.ok(Date.now() - started < 4000, 'siblings were cancelled, not awaited until ready');
    assert.deepEqual(await h.store.listInstances(sd.infra_id), []);
    assert.deepEqual(await listDummyInstances(h.store), []);
  });

  test('sequential: the first failure stops the batch; nodes already created stay', async () => {
    const h = await harness({ ok: [dummyDefinition()], broken: [dummyDefinition({ failure_rate: 1 })] });
    const sd = await h.submit({
      infra_name: 'seq',
      user_id: 'u',
      nodes: [
        { name: 'a', type: 'ok' },
        { name: 'b', type: 'broken' },
        { name: 'c', type: 'ok' },
      ],
    });
    await assert.rejects(h.pass(sd.infra_id), /node 'b'/);
    const records = await h.store.listInstances(sd.infra_id);
    assert.deepEqual(records.map((r) => r.node_name), ['a']);
    assert.equal(h.named('nodecreating').filter((e) => e.data.node_name === 'c').length, 0);
  });

  test('the stored report has Occopus shape with scaling figures', async () => {
    const h = await harness(defs);
    const sd = await h.submit(twoLevels());
    const { report } = await h.pass(sd.infra_id);
    assert.deepEqual(report.nodes.web?.scaling, { actual: 2, target: 2, min: 2, max: 5 });
    for (const inst of Object.values(report.nodes.web?.instances ?? {})) {
      assert.equal(inst.state, 'ready');
      assert.match(String(inst.resource_address), /^127\./);
    }
    assert.deepEqual(await h.store.getInfraMeta(sd.infra_id, 'report'), JSON.parse(JSON.stringify(report)));
  });
});
