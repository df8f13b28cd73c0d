/**
 * The behaviour every ResourceHandler driver must show (the failure semantics written in
 * src/drivers/resource-handler.ts), as node:test suites. A driver's test file calls
 * {@link driverConformance} with a fixture factory; the suite runs once per fixture.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { ResourceSection } from '../../src/descriptors/types.js';
import type { ResolvedNode } from '../../src/resolution/resolve.js';
import type { CreatedInstance, InstanceHandle, ResourceHandler, ResourceState } from '../../src/drivers/resource-handler.js';

export interface DriverFixture {
  /** A new handler on the same backend: calling it again simulates an orchestrator restart. */
  createHandler(): ResourceHandler;
  /** A resolved node the driver can create, with the given node id. */
  resolvedNode(nodeId: string): ResolvedNode;
  infraId: string;
  resource: ResourceSection;
  /** Removes whatever the fixture set up (and anything a failed test left behind). */
  cleanup(): Promise<void>;
  /** How many resources of this fixture still exist on the backend. */
  leftovers(): Promise<number>;
}

const READY_DEADLINE_MS = 20_000;
const GONE_DEADLINE_MS = 20_000;

async function pause(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls the state until `done` accepts it; every state seen on the way must be in `allowed`. */
async function pollState(
  handler: ResourceHandler,
  handle: InstanceHandle,
  done: (s: ResourceState) => boolean,
  allowed: readonly ResourceState[],
  deadlineMs: number,
): Promise<ResourceState> {
  const deadline = Date.now() + deadlineMs;
  const seen: ResourceState[] = [];
  for (;;) {
    const state = await handler.getState(handle);
    seen.push(state);
    if (done(state)) return state;
    assert.ok(allowed.includes(state), `unexpected state '${state}' (seen so far: ${seen.join(', ')})`);
    assert.ok(Date.now() < deadline, `state did not settle in time (seen: ${seen.join(', ')})`);
    await pause(50);
  }
}

export function driverConformance(name: string, setup: () => Promise<DriverFixture>): void {
  describe(`${name}: ResourceHandler conformance`, () => {
    let fx: DriverFixture;
    let handler: ResourceHandler;
    const nodeId = randomUUID();
    let created: CreatedInstance | null = null;

    const handleOf = (instance: CreatedInstance, id = nodeId): InstanceHandle => ({
      node_id: id,
      infra_id: fx.infraId,
      instance_id: instance.instance_id,
      resource: fx.resource,
      driver_data: instance.driver_data ?? {},
    });
    const findContext = (): { infra_id: string; resource: ResourceSection } => ({ infra_id: fx.infraId, resource: fx.resource });
    const mustHaveCreated = (): CreatedInstance => {
      assert.ok(created, 'the first create did not succeed');
      return created;
    };

    before(async () => {
      fx = await setup();
      handler = fx.createHandler();
    });
    after(async () => {
      await handler?.close?.();
      await fx?.cleanup();
    });

    it('create returns an instance id', async () => {
      assert.equal(await fx.leftovers(), 0, 'the fixture must start empty');
      created = await handler.create(fx.resolvedNode(nodeId), { idempotencyKey: nodeId, signal: new AbortController().signal });
      assert.equal(typeof created.instance_id, 'string');
      assert.ok(created.instance_id.length > 0);
      assert.equal(await fx.leftovers(), 1);
    });

    it('the instance becomes ready', async () => {
      const state = await pollState(handler, handleOf(mustHaveCreated()), (s) => s === 'ready', ['pending'], READY_DEADLINE_MS);
      assert.equal(state, 'ready');
    });

    it('the instance has valid IP addresses', async () => {
      const addresses = await handler.getAddresses(handleOf(mustHaveCreated()));
      assert.ok(addresses.public.length + addresses.private.length > 0, 'no address at all');
      for (const a of [...addresses.public, ...addresses.private]) assert.ok(isIP(a) !== 0, `'${a}' is not an IP address`);
    });

    it('creating again with the same idempotency key makes no second resource', async () => {
      const first = mustHaveCreated();
      try {
        const again = await handler.create(fx.resolvedNode(nodeId), { idempotencyKey: nodeId, signal: new AbortController().signal });
        assert.equal(again.instance_id, first.instance_id, 'a second create with the same key must return the same instance');
      } catch {
        // Refusing is allowed too, as long as nothing leaks.
      }
      assert.equal(await fx.leftovers(), 1);
      assert.equal((await handler.find(nodeId, findContext()))?.instance_id, first.instance_id);
    });

    it('find(key) returns the instance', async () => {
      const found = await handler.find(nodeId, findContext());
      assert.equal(found?.instance_id, mustHaveCreated().instance_id);
      assert.equal(await handler.find(randomUUID(), findContext()), null, 'an unknown key finds nothing');
    });

    it('a new handler (after a restart) finds the instance and sees it ready', async () => {
      const restarted = fx.createHandler();
      try {
        const found = await restarted.find(nodeId, findContext());
        assert.ok(found, 'the instance was not found after a restart');
        assert.equal(found.instance_id, mustHaveCreated().instance_id);
        assert.equal(await restarted.getState(handleOf(found)), 'ready');
      } finally {
        await restarted.close?.();
      }
    });

    it('drop removes the instance: state unknown, find null, nothing left', async () => {
      const handle = handleOf(mustHaveCreated());
      await handler.drop(handle);
      const state = await pollState(handler, handle, (s) => s === 'unknown', ['shutdown'], GONE_DEADLINE_MS);
      assert.equal(state, 'unknown');
      assert.equal(await handler.find(nodeId, findContext()), null);
      assert.equal(await fx.leftovers(), 0);
    });

    it('dropping again succeeds (drop is idempotent)', async () => {
      await handler.drop(handleOf(mustHaveCreated()));
      assert.equal(await handler.getState(handleOf(mustHaveCreated())), 'unknown');
    });

    it('a create whose signal is already aborted throws and leaves nothing', async () => {
      const id = randomUUID();
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(handler.create(fx.resolvedNode(id), { idempotencyKey: id, signal: controller.signal }));
      assert.equal(await handler.find(id, findContext()), null);
      assert.equal(await fx.leftovers(), 0);
    });

    it('aborting during create leaves nothing, or an instance that find can drop', async () => {
      const id = randomUUID();
      const controller = new AbortController();
      const creating = handler.create(fx.resolvedNode(id), { idempotencyKey: id, signal: controller.signal });
      setImmediate(() => controller.abort());
      let result: CreatedInstance | null = null;
      try {
        result = await creating;
      } catch {
        result = null;
      }
      if (result === null) {
        assert.equal(await handler.find(id, findContext()), null);
      } else {
        // The create completed before the abort was seen: the contract needs it to be findable.
        const found = await handler.find(id, findContext());
        assert.equal(found?.instance_id, result.instance_id);
        await handler.drop(handleOf(result, id));
      }
      assert.equal(await fx.leftovers(), 0);
    });

    it('a handle that was never created is unknown, and dropping it succeeds', async () => {
      const id = randomUUID();
      const ghost: CreatedInstance = { instance_id: `never-created-${id}`, driver_data: {} };
      assert.equal(await handler.getState(handleOf(ghost, id)), 'unknown');
      await handler.drop(handleOf(ghost, id));
      assert.equal(await fx.leftovers(), 0);
    });
  });
}
