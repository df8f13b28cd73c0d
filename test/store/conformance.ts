/**
 * The behaviour every Store backend must show, as node:test suites. A backend's test file calls
 * {@link storeConformance} with a factory; each test gets a fresh, empty backing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreError } from '../../src/errors.js';
import type { NodeDefinition } from '../../src/descriptors/types.js';
import type { StaticDescription } from '../../src/compiler/types.js';
import type { InstanceRecord, ScalingRequest, Store } from '../../src/store/store.js';

export interface ConformanceSubject {
  /** A store on a fresh, empty backing. */
  store: Store;
  /** Another store on the same backing, scoped to `user` (the same user gives a second handle). */
  openAs: (user: string) => Promise<Store>;
  /** Closes `store` and opens it again on the same backing, when the backend can. */
  reopen: () => Promise<Store>;
  /** Closes what the factory opened and removes its files. */
  cleanup: () => Promise<void>;
}

export function description(infraId: string, name = 'demo'): StaticDescription {
  return {
    infra_id: infraId,
    name,
    user_id: 'someone',
    nodes: [
      {
        name: 'web',
        type: 'web_t',
        variables: { greeting: 'hi' },
        infra_id: infraId,
        infra_name: name,
        user_id: 'someone',
        mappings: { inbound: {}, outbound: {} },
      },
    ],
    edges: [],
    topological_order: [['web']],
    variables: { greeting: 'hi' },
    suspended: false,
  };
}

export function instance(infraId: string, nodeId: string, overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    node_id: nodeId,
    infra_id: infraId,
    node_name: 'web',
    lifecycle: 'creating',
    resource_type: 'local',
    instance_id: null,
    instance_start_time: null,
    created_at: 1000,
    data: { node_description: { name: 'web' }, resource: { type: 'local' } },
    ...overrides,
  };
}

function nodeDef(image: string): NodeDefinition {
  return { resource: { type: 'ec2', image_id: image }, health_check: { ping: false, ports: [22] } };
}

function isStoreError(e: unknown): boolean {
  return e instanceof StoreError && e.code === 'E_STORE';
}

/** A value JSON cannot represent, to prove a write is refused as a whole. */
function cyclic(): NodeDefinition {
  const def = nodeDef('bad') as NodeDefinition & { self?: unknown };
  def.self = def;
  return def;
}

export function storeConformance(name: string, factory: () => Promise<ConformanceSubject>): void {
  /** Runs `fn` on a fresh subject and always cleans up. */
  async function withSubject(fn: (s: ConformanceSubject) => Promise<void>): Promise<void> {
    const subject = await factory();
    try {
      await fn(subject);
    } finally {
      await subject.cleanup();
    }
  }
  const withStore = (fn: (store: Store) => Promise<void>) => withSubject((s) => fn(s.store));

  describe(`${name}: store conformance`, () => {
    describe('node definitions', () => {
      test('an unknown type has no definitions and nothing is listed', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.getNodeDefinitions('nope'), []);
          assert.deepEqual(await store.listNodeDefinitionTypes(), []);
        }));

      test('imported definitions read back equal, types listed sorted', () =>
        withStore(async (store) => {
          await store.importNodeDefinitions({ zeta: [nodeDef('z')], alpha: [nodeDef('a1'), nodeDef('a2')] });
          assert.deepEqual(await store.getNodeDefinitions('alpha'), [nodeDef('a1'), nodeDef('a2')]);
          assert.deepEqual(await store.getNodeDefinitions('zeta'), [nodeDef('z')]);
          assert.deepEqual(await store.listNodeDefinitionTypes(), ['alpha', 'zeta']);
        }));

      test('import replaces the whole list of each given type and leaves other types alone', () =>
        withStore(async (store) => {
          await store.importNodeDefinitions({ a: [nodeDef('a1'), nodeDef('a2')], b: [nodeDef('b1')] });
          await store.importNodeDefinitions({ a: [nodeDef('a3')] });
          assert.deepEqual(await store.getNodeDefinitions('a'), [nodeDef('a3')]);
          assert.deepEqual(await store.getNodeDefinitions('b'), [nodeDef('b1')]);
        }));

      test('an import with one unstorable type changes nothing at all', () =>
        withStore(async (store) => {
          await store.importNodeDefinitions({ a: [nodeDef('a1')] });
          await assert.rejects(store.importNodeDefinitions({ a: [nodeDef('a2')], b: [cyclic()] }), isStoreError);
          assert.deepEqual(await store.getNodeDefinitions('a'), [nodeDef('a1')]);
          assert.deepEqual(await store.getNodeDefinitions('b'), []);
          assert.deepEqual(await store.listNodeDefinitionTypes(), ['a']);
        }));

      test('stored definitions are copies, not the caller’s objects', () =>
        withStore(async (store) => {
          const input = { a: [nodeDef('a1')] };
          await store.importNodeDefinitions(input);
          input.a[0]!.resource.image_id = 'changed-after-import';
          const read = await store.getNodeDefinitions('a');
          read[0]!.resource.image_id = 'changed-after-read';
          read.push(nodeDef('extra'));
          assert.deepEqual(await store.getNodeDefinitions('a'), [nodeDef('a1')]);
        }));
    });

    describe('infrastructures', () => {
      test('a missing infrastructure reads as null, an empty store lists nothing', () =>
        withStore(async (store) => {
          assert.equal(await store.getInfrastructure('missing'), null);
          assert.deepEqual(await store.listInfrastructures(), []);
        }));

      test('descriptions round-trip and are listed in creation order; a replace keeps the position', () =>
        withStore(async (store) => {
          await store.putInfrastructure(description('c'));
          await store.putInfrastructure(description('a'));
          await store.putInfrastructure(description('b'));
          assert.deepEqual(await store.listInfrastructures(), ['c', 'a', 'b']);
          await store.putInfrastructure({ ...description('c', 'renamed'), suspended: true });
          assert.deepEqual(await store.listInfrastructures(), ['c', 'a', 'b']);
          assert.deepEqual(await store.getInfrastructure('c'), { ...description('c', 'renamed'), suspended: true });
          assert.deepEqual(await store.getInfrastructure('a'), description('a'));
        }));

      test('descriptions are copies', () =>
        withStore(async (store) => {
          const d = description('x');
          await store.putInfrastructure(d);
          d.nodes[0]!.name = 'mutated';
          const read = (await store.getInfrastructure('x'))!;
          read.name = 'mutated';
          assert.deepEqual(await store.getInfrastructure('x'), description('x'));
        }));

      test('meta values round-trip per infrastructure and key; null removes', () =>
        withStore(async (store) => {
          assert.equal(await store.getInfraMeta('x', 'notification'), null);
          await store.setInfraMeta('x', 'notification', { url: 'http://h/', n: [1, 2] });
          await store.setInfraMeta('x', 'maintained', true);
          await store.setInfraMeta('y', 'maintained', false);
          await store.setInfraMeta('x', 'count', 0);
          await store.setInfraMeta('x', 'text', '');
          assert.deepEqual(await store.getInfraMeta('x', 'notification'), { url: 'http://h/', n: [1, 2] });
          assert.equal(await store.getInfraMeta('x', 'maintained'), true);
          assert.equal(await store.getInfraMeta('y', 'maintained'), false);
          assert.equal(await store.getInfraMeta('x', 'count'), 0);
          assert.equal(await store.getInfraMeta('x', 'text'), '');
          await store.setInfraMeta('x', 'maintained', 'replaced');
          assert.equal(await store.getInfraMeta('x', 'maintained'), 'replaced');
          await store.setInfraMeta('x', 'maintained', null);
          assert.equal(await store.getInfraMeta('x', 'maintained'), null);
          assert.equal(await store.getInfraMeta('y', 'maintained'), false);
        }));

      test('removeInfrastructure removes everything under the infra and nothing of another', () =>
        withStore(async (store) => {
          for (const id of ['gone', 'kept']) {
            await store.putInfrastructure(description(id));
            await store.setInfraMeta(id, 'notification', 'n');
            await store.insertInstance(instance(id, `${id}-n1`));
            await store.archiveFailedInstance(instance(id, `${id}-f1`));
            await store.markFailing(id, `${id}-n1`, 5);
            await store.addScalingRequests(id, [{ node: 'web', kind: 'create', count: 1 }]);
            await store.appendEvent(id, 'infrastart', 1, {});
          }
          await store.importNodeDefinitions({ web_t: [nodeDef('i')] });
          await store.acquireLease('gone', 'me', 60_000, 0);
          await store.kvPut('gone', 'k', 1);

          await store.removeInfrastructure('gone');

          assert.equal(await store.getInfrastructure('gone'), null);
          assert.equal(await store.getInfraMeta('gone', 'notification'), null);
          assert.deepEqual(await store.listInstances('gone'), []);
          assert.equal(await store.getInstance('gone', 'gone-n1'), null);
          assert.deepEqual(await store.listFailedInstances('gone'), []);
          assert.equal(await store.getFailingSince('gone', 'gone-n1'), null);
          assert.deepEqual(await store.peekScalingRequests('gone'), []);
          assert.deepEqual(await store.readEvents('gone'), []);
          assert.deepEqual(await store.listInfrastructures(), ['kept']);

          assert.deepEqual(await store.getInfrastructure('kept'), description('kept'));
          assert.equal(await store.getInfraMeta('kept', 'notification'), 'n');
          assert.equal((await store.listInstances('kept')).length, 1);
          assert.equal((await store.listFailedInstances('kept')).length, 1);
          assert.equal(await store.getFailingSince('kept', 'kept-n1'), 5);
          assert.equal((await store.peekScalingRequests('kept')).length, 1);
          assert.equal((await store.readEvents('kept')).length, 1);

          // Not kept under an infrastructure: node definitions, leases, kv.
          assert.equal((await store.getNodeDefinitions('web_t')).length, 1);
          assert.equal((await store.getLease('gone'))?.holder, 'me');
          assert.equal(await store.kvGet('gone', 'k'), 1);

          // The id can be used again from scratch.
          await store.insertInstance(instance('gone', 'gone-n1'));
          assert.equal((await store.listInstances('gone')).length, 1);
        }));

      test('removing an unknown infrastructure succeeds', () =>
        withStore(async (store) => {
          await store.removeInfrastructure('never-existed');
          assert.deepEqual(await store.listInfrastructures(), []);
        }));
    });

    describe('instances', () => {
      test('insert then get returns an equal record; a missing one is null', () =>
        withStore(async (store) => {
          const rec = instance('i', 'n1', {
            lifecycle: 'created',
            instance_id: 'i-123',
            instance_start_time: 1700000000.25,
            created_at: 1700000000123,
          });
          await store.insertInstance(rec);
          assert.deepEqual(await store.getInstance('i', 'n1'), rec);
          assert.equal(await store.getInstance('i', 'n2'), null);
          assert.equal(await store.getInstance('other', 'n1'), null);
        }));

      test('inserting an existing node id is a StoreError and keeps the first record', () =>
        withStore(async (store) => {
          await store.insertInstance(instance('i', 'n1', { node_name: 'first' }));
          await assert.rejects(store.insertInstance(instance('i', 'n1', { node_name: 'second' })), isStoreError);
          assert.equal((await store.getInstance('i', 'n1'))?.node_name, 'first');
          assert.equal((await store.listInstances('i')).length, 1);
          // The same node id under another infrastructure is another record.
          await store.insertInstance(instance('j', 'n1'));
          assert.equal((await store.listInstances('j')).length, 1);
        }));

      test('updateInstance applies the patch and returns the new record', () =>
        withStore(async (store) => {
          await store.insertInstance(instance('i', 'n1'));
          const updated = await store.updateInstance('i', 'n1', {
            lifecycle: 'created',
            instance_id: 'abc',
            instance_start_time: 42,
            data: { replaced: true },
          });
          const expected = instance('i', 'n1', {
            lifecycle: 'created',
            instance_id: 'abc',
            instance_start_time: 42,
            data: { replaced: true },
          });
          assert.deepEqual(updated, expected);
          assert.deepEqual(await store.getInstance('i', 'n1'), expected);
        }));

      test('updateInstance leaves fields given as undefined and never changes the identity', () =>
        withStore(async (store) => {
          await store.insertInstance(instance('i', 'n1', { instance_id: 'keep' }));
          const patch = { instance_id: undefined, node_id: 'hijack', infra_id: 'elsewhere', node_name: 'renamed' };
          const updated = await store.updateInstance('i', 'n1', patch as Partial<InstanceRecord>);
          assert.deepEqual(updated, instance('i', 'n1', { instance_id: 'keep', node_name: 'renamed' }));
          assert.equal(await store.getInstance('elsewhere', 'hijack'), null);
        }));

      test('updateInstance is a compare-and-set on the lifecycle', () =>
        withStore(async (store) => {
          await store.insertInstance(instance('i', 'n1', { lifecycle: 'creating' }));
          assert.equal(await store.updateInstance('i', 'n1', { lifecycle: 'dropping' }, ['created']), null);
          assert.equal(await store.updateInstance('i', 'n1', { lifecycle: 'dropping' }, []), null);
          assert.equal((await store.getInstance('i', 'n1'))?.lifecycle, 'creating');
          const ok = await store.updateInstance('i', 'n1', { lifecycle: 'created' }, ['creating', 'dropping']);
          assert.equal(ok?.lifecycle, 'created');
          // Two racing transitions from the same state: only the first applies.
          assert.notEqual(await store.updateInstance('i', 'n1', { lifecycle: 'dropping' }, ['created']), null);
          assert.equal(await store.updateInstance('i', 'n1', { lifecycle: 'dropping' }, ['created']), null);
          assert.equal((await store.getInstance('i', 'n1'))?.lifecycle, 'dropping');
        }));

      test('updating a missing instance returns null and creates nothing', () =>
        withStore(async (store) => {
          assert.equal(await store.updateInstance('i', 'ghost', { lifecycle: 'created' }), null);
          assert.equal(await store.getInstance('i', 'ghost'), null);
          assert.deepEqual(await store.listInstances('i'), []);
        }));

      test('listInstances orders by created_at, ties by insertion', () =>
        withStore(async (store) => {
          await store.insertInstance(instance('i', 'late', { created_at: 300 }));
          await store.insertInstance(instance('i', 'tie-b', { created_at: 200 }));
          await store.insertInstance(instance('i', 'early', { created_at: 100 }));
          await store.insertInstance(instance('i', 'tie-a', { created_at: 200 }));
          await store.insertInstance(instance('other', 'x', { created_at: 1 }));
          const ids = async () => (await store.listInstances('i')).map((r) => r.node_id);
          assert.deepEqual(await ids(), ['early', 'tie-b', 'tie-a', 'late']);
          await store.updateInstance('i', 'early', { created_at: 400 });
          assert.deepEqual(await ids(), ['tie-b', 'tie-a', 'late', 'early']);
          assert.deepEqual(await store.listInstances('nothing-here'), []);
        }));

      test('removeInstance reports whether something was removed', () =>
        withStore(async (store) => {
          await store.insertInstance(instance('i', 'n1'));
          await store.insertInstance(instance('i', 'n2'));
          assert.equal(await store.removeInstance('i', 'n1'), true);
          assert.equal(await store.removeInstance('i', 'n1'), false);
          assert.equal(await store.removeInstance('other', 'n2'), false);
          assert.deepEqual((await store.listInstances('i')).map((r) => r.node_id), ['n2']);
        }));

      test('instance records are copies', () =>
        withStore(async (store) => {
          const rec = instance('i', 'n1');
          await store.insertInstance(rec);
          (rec.data as { resource: { type: string } }).resource.type = 'mutated';
          const read = (await store.getInstance('i', 'n1'))!;
          read.data['extra'] = 1;
          const listed = await store.listInstances('i');
          listed[0]!.node_name = 'mutated';
          const patchData = { a: [1] };
          const updated = (await store.updateInstance('i', 'n1', { data: patchData }))!;
          patchData.a.push(2);
          (updated.data['a'] as number[]).push(3);
          assert.deepEqual(await store.getInstance('i', 'n1'), instance('i', 'n1', { data: { a: [1] } }));
        }));

      test('failed instances are archived per infrastructure, one copy per node id', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.listFailedInstances('i'), []);
          const a = instance('i', 'a', { lifecycle: 'created', instance_id: 'x' });
          await store.insertInstance(a);
          await store.archiveFailedInstance(a);
          await store.archiveFailedInstance(instance('i', 'b'));
          await store.archiveFailedInstance(instance('j', 'c'));
          await store.archiveFailedInstance({ ...a, instance_id: 'y' });
          a.node_name = 'mutated';
          assert.deepEqual(await store.listFailedInstances('i'), [
            instance('i', 'a', { lifecycle: 'created', instance_id: 'y' }),
            instance('i', 'b'),
          ]);
          // The archive is independent of the live journal.
          await store.removeInstance('i', 'a');
          assert.equal((await store.listFailedInstances('i')).length, 2);
          assert.deepEqual(await store.listFailedInstances('j'), [instance('j', 'c')]);
        }));
    });

    describe('health-check failure timers', () => {
      test('markFailing keeps the first failure time until cleared', () =>
        withStore(async (store) => {
          assert.equal(await store.getFailingSince('i', 'n1'), null);
          assert.equal(await store.markFailing('i', 'n1', 100.5), 100.5);
          assert.equal(await store.markFailing('i', 'n1', 200), 100.5);
          assert.equal(await store.getFailingSince('i', 'n1'), 100.5);
          assert.equal(await store.getFailingSince('i', 'n2'), null);
          assert.equal(await store.markFailing('i', 'n2', 300), 300);
          await store.clearFailing('i', 'n1');
          assert.equal(await store.getFailingSince('i', 'n1'), null);
          assert.equal(await store.getFailingSince('i', 'n2'), 300);
          assert.equal(await store.markFailing('i', 'n1', 400), 400);
          await store.clearFailing('i', 'never-failed');
          assert.equal(await store.getFailingSince('j', 'n1'), null);
        }));
    });

    describe('scaling requests', () => {
      const requests: ScalingRequest[] = [
        { node: 'web', kind: 'create', count: 2 },
        { node: 'web', kind: 'destroy', selector: null },
        { node: 'db', kind: 'destroy', selector: '10.0.0.7' },
        { node: 'db', kind: 'target', count: 3 },
      ];

      test('peek shows pending requests in submission order without consuming them', () =>
        withStore(async (store) => {
          assert.deepEqual(await store.peekScalingRequests('i'), []);
          await store.addScalingRequests('i', requests.slice(0, 2));
          await store.addScalingRequests('i', requests.slice(2));
          assert.deepEqual(await store.peekScalingRequests('i'), requests);
          assert.deepEqual(await store.peekScalingRequests('i'), requests);
        }));

      test('take returns every pending request once, in order, and leaves none', () =>
        withStore(async (store) => {
          await store.addScalingRequests('i', requests.slice(0, 3));
          await store.addScalingRequests('j', [requests[3]!]);
          assert.deepEqual(await store.takeScalingRequests('i'), requests.slice(0, 3));
          assert.deepEqual(await store.takeScalingRequests('i'), []);
          assert.deepEqual(await store.peekScalingRequests('i'), []);
          await store.addScalingRequests('i', [requests[3]!]);
          assert.deepEqual(await store.takeScalingRequests('i'), [requests[3]]);
          assert.deepEqual(await store.peekScalingRequests('j'), [requests[3]]);
          await store.addScalingRequests('i', []);
          assert.deepEqual(await store.takeScalingRequests('i'), []);
        }));

      test('two handles taking concurrently never get the same request', () =>
        withSubject(async (s) => {
          const other = await s.openAs(s.store.user);
          try {
            const all: ScalingRequest[] = Array.from({ length: 60 }, (_, i) => ({ node: 'web', kind: 'create', count: i }));
            const taken: ScalingRequest[] = [];
            const takers = [s.store, other].map(async (st) => {
              for (let round = 0; round < 40; round++) taken.push(...(await st.takeScalingRequests('i')));
            });
            const adder = (async () => {
              for (let i = 0; i < all.length; i += 3) await s.store.addScalingRequests('i', all.slice(i, i + 3));
            })();
            await Promise.all([adder, ...takers]);
            taken.push(...(await other.takeScalingRequests('i')));
            assert.deepEqual(
              taken.map((r) => (r as { count: number }).count).sort((a, b) => a - b),
              all.map((r) => (r as { count: number }).count),
            );
          } finally {
            await other.close();
          }
        }));

      test('requests are copies', () =>
        withStore(async (store) => {
          const input: ScalingRequest[] = [{ node: 'web', kind: 'create', count: 1 }];
          await store.addScalingRequests('i', input);
          input[0]!.node = 'mutated';
          const peeked = await store.peekScalingRequests('i');
          peeked[0]!.node = 'mutated';
          assert.deepEqual(await store.takeScalingRequests('i'), [{ node: 'web', kind: 'create', count: 1 }]);
        }));
    });

    describe('leases', () => {
      test('a free lease is taken and reports its holder and expiry', () =>
        withStore(async (store) => {
          assert.equal(await store.getLease('maint:i'), null);
          assert.equal(await store.acquireLease('maint:i', 'p1', 10_000, 1_000), true);
          assert.deepEqual(await store.getLease('maint:i'), { holder: 'p1', expires_at: 11_000 });
        }));

      test('a lease held by another is refused until it expires', () =>
        withStore(async (store) => {
          await store.acquireLease('k', 'p1', 10_000, 1_000);
          assert.equal(await store.acquireLease('k', 'p2', 10_000, 5_000), false);
          assert.equal(await store.acquireLease('k', 'p2', 10_000, 10_999), false);
          assert.deepEqual(await store.getLease('k'), { holder: 'p1', expires_at: 11_000 });
          assert.equal(await store.acquireLease('k', 'p2', 10_000, 11_001), true);
          assert.deepEqual(await store.getLease('k'), { holder: 'p2', expires_at: 21_001 });
          // p1 lost it: it can neither renew nor release p2's lease.
          assert.equal(await store.renewLease('k', 'p1', 10_000, 11_002), false);
          await store.releaseLease('k', 'p1');
          assert.equal((await store.getLease('k'))?.holder, 'p2');
        }));

      test('the holder re-acquiring renews its lease', () =>
        withStore(async (store) => {
          await store.acquireLease('k', 'p1', 10_000, 1_000);
          assert.equal(await store.acquireLease('k', 'p1', 10_000, 5_000), true);
          assert.deepEqual(await store.getLease('k'), { holder: 'p1', expires_at: 15_000 });
        }));

      test('only the holder renews', () =>
        withStore(async (store) => {
          assert.equal(await store.renewLease('k', 'p1', 10_000, 0), false);
          assert.equal(await store.getLease('k'), null);
          await store.acquireLease('k', 'p1', 10_000, 1_000);
          assert.equal(await store.renewLease('k', 'p2', 10_000, 2_000), false);
          assert.deepEqual(await store.getLease('k'), { holder: 'p1', expires_at: 11_000 });
          assert.equal(await store.renewLease('k', 'p1', 20_000, 2_000), true);
          assert.deepEqual(await store.getLease('k'), { holder: 'p1', expires_at: 22_000 });
        }));

      test('only the holder releases', () =>
        withStore(async (store) => {
          await store.acquireLease('k', 'p1', 10_000, 1_000);
          await store.releaseLease('k', 'p2');
          assert.equal((await store.getLease('k'))?.holder, 'p1');
          await store.releaseLease('k', 'p1');
          assert.equal(await store.getLease('k'), null);
          assert.equal(await store.acquireLease('k', 'p2', 10_000, 1_001), true);
          await store.releaseLease('never', 'p1');
        }));

      test('leases with different keys are independent', () =>
        withStore(async (store) => {
          assert.equal(await store.acquireLease('a', 'p1', 10_000, 0), true);
          assert.equal(await store.acquireLease('b', 'p2', 10_000, 0), true);
          assert.equal((await store.getLease('a'))?.holder, 'p1');
          assert.equal((await store.getLease('b'))?.holder, 'p2');
        }));

      test('without an explicit time, the clock is used', () =>
        withStore(async (store) => {
          const before = Date.now();
          assert.equal(await store.acquireLease('k', 'p1', 60_000), true);
          const lease = (await store.getLease('k'))!;
          assert.ok(lease.expires_at >= before + 60_000 && lease.expires_at <= Date.now() + 60_000);
          assert.equal(await store.acquireLease('k', 'p2', 60_000), false);
        }));
    });

    describe('events', () => {
      test('sequence numbers start at 1 and grow per infrastructure', () =>
        withStore(async (store) => {
          assert.equal(await store.appendEvent('i', 'infrastart', 10, {}), 1);
          assert.equal(await store.appendEvent('i', 'nodecreated', 11, { node: 'web' }), 2);
          assert.equal(await store.appendEvent('j', 'infrastart', 12, {}), 1);
          assert.equal(await store.appendEvent('i', 'nodefailed', 13, {}), 3);
          assert.deepEqual(await store.readEvents('i'), [
            { seq: 1, infra_id: 'i', name: 'infrastart', timestamp: 10, data: {} },
            { seq: 2, infra_id: 'i', name: 'nodecreated', timestamp: 11, data: { node: 'web' } },
            { seq: 3, infra_id: 'i', name: 'nodefailed', timestamp: 13, data: {} },
          ]);
          assert.deepEqual(await store.readEvents('unknown'), []);
        }));

      test('readEvents pages with afterSeq and limit', () =>
        withStore(async (store) => {
          for (let i = 0; i < 7; i++) await store.appendEvent('i', `e${i}`, i, { i });
          assert.deepEqual((await store.readEvents('i', 5)).map((e) => e.seq), [6, 7]);
          assert.deepEqual((await store.readEvents('i', 2, 3)).map((e) => e.seq), [3, 4, 5]);
          assert.deepEqual(await store.readEvents('i', 7), []);
          assert.deepEqual(await store.readEvents('i', 0, 0), []);
          const seen: number[] = [];
          let after = 0;
          for (;;) {
            const page = await store.readEvents('i', after, 3);
            if (page.length === 0) break;
            assert.ok(page.length <= 3);
            seen.push(...page.map((e) => e.seq));
            after = page[page.length - 1]!.seq;
          }
          assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7]);
        }));

      test('event data is copied', () =>
        withStore(async (store) => {
          const data = { list: [1] };
          await store.appendEvent('i', 'x', 1, data);
          data.list.push(2);
          const [read] = await store.readEvents('i');
          (read!.data['list'] as number[]).push(3);
          assert.deepEqual((await store.readEvents('i'))[0]!.data, { list: [1] });
        }));
    });

    describe('key-value space', () => {
      test('put, get, overwrite, delete and list per namespace', () =>
        withStore(async (store) => {
          assert.equal(await store.kvGet('dummy', 'vm1'), null);
          assert.deepEqual(await store.kvList('dummy'), {});
          await store.kvPut('dummy', 'vm2', { state: 'pending' });
          await store.kvPut('dummy', 'vm1', { state: 'ready', ips: ['10.0.0.1'] });
          await store.kvPut('other', 'vm1', 'another namespace');
          assert.deepEqual(await store.kvGet('dummy', 'vm1'), { state: 'ready', ips: ['10.0.0.1'] });
          await store.kvPut('dummy', 'vm2', { state: 'ready' });
          const listed = await store.kvList('dummy');
          assert.deepEqual(Object.keys(listed), ['vm1', 'vm2']);
          assert.deepEqual(listed, { vm1: { state: 'ready', ips: ['10.0.0.1'] }, vm2: { state: 'ready' } });
          assert.equal(await store.kvDelete('dummy', 'vm1'), true);
          assert.equal(await store.kvDelete('dummy', 'vm1'), false);
          assert.equal(await store.kvDelete('nowhere', 'vm1'), false);
          assert.deepEqual(await store.kvList('dummy'), { vm2: { state: 'ready' } });
          assert.equal(await store.kvGet('other', 'vm1'), 'another namespace');
        }));

      test('values of every JSON kind round-trip and are copies', () =>
        withStore(async (store) => {
          const values = [0, -1.5, 'text', '', true, false, [1, 'a', null], { nested: { deep: [{}] } }];
          for (const [i, v] of values.entries()) await store.kvPut('ns', `k${i}`, v);
          for (const [i, v] of values.entries()) assert.deepEqual(await store.kvGet('ns', `k${i}`), v);
          const obj = { a: [1] };
          await store.kvPut('ns', 'obj', obj);
          obj.a.push(2);
          ((await store.kvGet('ns', 'obj')) as { a: number[] }).a.push(3);
          ((await store.kvList('ns'))['obj'] as { a: number[] }).a.push(4);
          assert.deepEqual(await store.kvGet('ns', 'obj'), { a: [1] });
        }));

      test('a key named __proto__ is an ordinary key', () =>
        withStore(async (store) => {
          await store.kvPut('ns', '__proto__', { polluted: true });
          const listed = await store.kvList('ns');
          assert.deepEqual(Object.keys(listed), ['__proto__']);
          assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
          assert.equal((listed as Record<string, unknown>)['polluted'], undefined);
        }));
    });

    describe('user scoping', () => {
      test('another handle for the same user sees the same data', () =>
        withSubject(async (s) => {
          await s.store.putInfrastructure(description('x'));
          await s.store.kvPut('ns', 'k', 1);
          const again = await s.openAs(s.store.user);
          try {
            assert.equal(again.user, s.store.user);
            assert.deepEqual(await again.listInfrastructures(), ['x']);
            assert.equal(await again.kvGet('ns', 'k'), 1);
          } finally {
            await again.close();
          }
        }));

      test('two users on the same backing see nothing of each other', () =>
        withSubject(async (s) => {
          const alice = s.store;
          await alice.importNodeDefinitions({ web_t: [nodeDef('alice')] });
          await alice.putInfrastructure(description('x'));
          await alice.setInfraMeta('x', 'notification', 'n');
          await alice.insertInstance(instance('x', 'n1'));
          await alice.archiveFailedInstance(instance('x', 'f1'));
          await alice.markFailing('x', 'n1', 5);
          await alice.addScalingRequests('x', [{ node: 'web', kind: 'create', count: 1 }]);
          await alice.appendEvent('x', 'infrastart', 1, {});
          await alice.acquireLease('maint:x', 'alice-proc', 60_000, 0);
          await alice.kvPut('ns', 'k', 'alice');

          const bob = await s.openAs(`${alice.user}-other`);
          try {
            assert.equal(bob.user, `${alice.user}-other`);
            assert.deepEqual(await bob.listNodeDefinitionTypes(), []);
            assert.deepEqual(await bob.getNodeDefinitions('web_t'), []);
            assert.deepEqual(await bob.listInfrastructures(), []);
            assert.equal(await bob.getInfrastructure('x'), null);
            assert.equal(await bob.getInfraMeta('x', 'notification'), null);
            assert.deepEqual(await bob.listInstances('x'), []);
            assert.equal(await bob.getInstance('x', 'n1'), null);
            assert.deepEqual(await bob.listFailedInstances('x'), []);
            assert.equal(await bob.getFailingSince('x', 'n1'), null);
            assert.deepEqual(await bob.peekScalingRequests('x'), []);
            assert.deepEqual(await bob.takeScalingRequests('x'), []);
            assert.deepEqual(await bob.readEvents('x'), []);
            assert.equal(await bob.getLease('maint:x'), null);
            assert.equal(await bob.kvGet('ns', 'k'), null);
            assert.deepEqual(await bob.kvList('ns'), {});

            // Bob's writes under the same names are his own and leave Alice's alone.
            await bob.importNodeDefinitions({ web_t: [nodeDef('bob')] });
            await bob.insertInstance(instance('x', 'n1', { node_name: 'bobs' }));
            assert.equal(await bob.acquireLease('maint:x', 'bob-proc', 60_000, 0), true);
            assert.equal(await bob.appendEvent('x', 'infrastart', 2, {}), 1);
            await bob.kvPut('ns', 'k', 'bob');
            await bob.removeInfrastructure('x');

            assert.deepEqual(await alice.getNodeDefinitions('web_t'), [nodeDef('alice')]);
            assert.deepEqual(await alice.listInfrastructures(), ['x']);
            assert.equal(await alice.getInfraMeta('x', 'notification'), 'n');
            assert.deepEqual(await alice.listInstances('x'), [instance('x', 'n1')]);
            assert.equal((await alice.listFailedInstances('x')).length, 1);
            assert.equal(await alice.getFailingSince('x', 'n1'), 5);
            assert.equal((await alice.peekScalingRequests('x')).length, 1);
            assert.deepEqual((await alice.readEvents('x')).map((e) => e.seq), [1]);
            assert.equal((await alice.getLease('maint:x'))?.holder, 'alice-proc');
            assert.equal(await alice.kvGet('ns', 'k'), 'alice');
            assert.equal(await bob.kvGet('ns', 'k'), 'bob');
          } finally {
            await bob.close();
          }
        }));
    });

    describe('lifecycle', () => {
      test('the store reports its user', () =>
        withStore(async (store) => {
          assert.equal(typeof store.user, 'string');
          assert.ok(store.user.length > 0);
        }));

      test('a closed store refuses work with a StoreError; closing twice is fine', () =>
        withStore(async (store) => {
          await store.close();
          await store.close();
          await assert.rejects(store.listInfrastructures(), isStoreError);
          await assert.rejects(store.kvPut('ns', 'k', 1), isStoreError);
        }));

      test('data written before a reopen is there after it', () =>
        withSubject(async (s) => {
          await s.store.putInfrastructure(description('x'));
          await s.store.insertInstance(instance('x', 'n1'));
          await s.store.addScalingRequests('x', [{ node: 'web', kind: 'target', count: 2 }]);
          const reopened = await s.reopen();
          assert.deepEqual(await reopened.getInfrastructure('x'), description('x'));
          assert.deepEqual(await reopened.listInstances('x'), [instance('x', 'n1')]);
          assert.deepEqual(await reopened.takeScalingRequests('x'), [{ node: 'web', kind: 'target', count: 2 }]);
        }));
    });
  });
}
