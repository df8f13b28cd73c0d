/**
 * CreateNode (runtime §4.2), journal first: the instance is recorded as `creating` before the
 * driver is called, with its node id as the idempotency key, so a crash at any point leaves a record
 * that the next pass reconciles through `find`. A failed or cancelled create drops what it made.
 */
import { randomUUID } from 'node:crypto';
import type { NodeDescription } from '../compiler/types.js';
import type { Addresses } from '../drivers/resource-handler.js';
import { selectImplementation } from '../resolution/select.js';
import { resolveNode, type AddressLookup, type InstanceAddresses, type ResolvedNode } from '../resolution/resolve.js';
import type { InstanceRecord } from '../store/store.js';
import { isOccopusError, messageOf } from '../errors.js';
import { CancelledError, childController, sleep, throwIfAborted } from '../util/abort.js';
import type { EngineContext } from './context.js';
import { instanceData, toJsonObject, type InstanceData } from './instance.js';
import { observeInstance } from './observe.js';
import { dropInstance } from './drop-node.js';
import { NodeCreationError, NodeCreationTimeoutError, NodeFailedError } from './errors.js';

/** Address book of an infrastructure's ready instances, for `getip` and friends. */
export async function addressLookup(ctx: EngineContext, infraId: string): Promise<AddressLookup> {
  const records = await ctx.store.listInstances(infraId);
  const known = records
    .filter((r) => r.lifecycle === 'created' && instanceData(r).addresses)
    .map((r) => ({ name: r.node_name, addresses: instanceData(r).addresses as Addresses }));
  return {
    instancesOf(name): InstanceAddresses[] {
      return known.filter((k) => !name || k.name === name).map((k) => k.addresses);
    },
  };
}

export interface CreateNodeResult {
  node_id: string;
  node_name: string;
  addresses: Addresses;
}

export async function createNode(ctx: EngineContext, node: NodeDescription, signal: AbortSignal): Promise<CreateNodeResult> {
  throwIfAborted(signal);
  const nodeId = randomUUID();
  const infraId = node.infra_id;
  await ctx.events.emit(infraId, 'nodecreating', { node_id: nodeId, node_name: node.name });

  let resolved: ResolvedNode;
  try {
    const definitions = await ctx.store.getNodeDefinitions(node.type);
    const definition = selectImplementation(definitions, node);
    resolved = resolveNode({
      nodeId,
      node,
      definition,
      lookup: await addressLookup(ctx, infraId),
      allowCmd: ctx.config.templates.allow_cmd,
      warn: (m) => ctx.log.warn({ infra_id: infraId, node: node.name }, m),
    });
  } catch (e) {
    throw new NodeCreationError(node.name, nodeId, isOccopusError(e) ? e.describe() : messageOf(e), e);
  }

  const data: InstanceData = { node_description: node, resolved_node_definition: resolved, resource: resolved.resource };
  const record: InstanceRecord = {
    node_id: nodeId,
    infra_id: infraId,
    node_name: node.name,
    lifecycle: 'creating',
    resource_type: resolved.resource.type,
    instance_id: null,
    instance_start_time: null,
    created_at: ctx.now(),
    data: toJsonObject(data),
  };
  await ctx.store.insertInstance(record);

  try {
    const handler = await ctx.drivers.handlerFor(resolved.resource);
    const created = await handler.create(resolved, { idempotencyKey: nodeId, signal });
    const updated = await ctx.store.updateInstance(
      infraId,
      nodeId,
      {
        lifecycle: 'created',
        instance_id: created.instance_id,
        instance_start_time: ctx.now() / 1000,
        data: toJsonObject({ ...data, driver_data: created.driver_data ?? {} }),
      },
      ['creating'],
    );
    if (!updated) throw new NodeCreationError(node.name, nodeId, 'the instance record vanished while it was being created');
    const manager = await ctx.drivers.managerFor(resolved.config_management);
    await manager.registerNode(resolved);

    const addresses = await waitUntilReady(ctx, updated, resolved.create_timeout ?? ctx.config.engine.create_timeout, signal);
    await ctx.store.updateInstance(infraId, nodeId, { data: toJsonObject({ ...instanceData(updated), addresses }) });
    await ctx.events.emit(infraId, 'nodecreated', {
      node_id: nodeId,
      node_name: node.name,
      endpoint: typeof resolved.resource.endpoint === 'string' ? resolved.resource.endpoint : null,
      addresses: toJsonObject(addresses),
    });
    return { node_id: nodeId, node_name: node.name, addresses };
  } catch (e) {
    // Roll back this node whatever went wrong, cancellation included: nothing it made may leak.
    const current = await ctx.store.getInstance(infraId, nodeId);
    if (current) await dropInstance(ctx, current).catch((dropError: unknown) => ctx.log.error({ node_id: nodeId }, messageOf(dropError)));
    if (e instanceof CancelledError || e instanceof NodeCreationError) throw e;
    throw new NodeCreationError(node.name, nodeId, isOccopusError(e) ? e.describe() : messageOf(e), e);
  }
}

/** Shortest wait between two polls, so a node that is ready at once is seen at once. */
const FIRST_POLL_MS = 25;
/**
 * Each wait between polls is this fraction of the time the node has taken so far (since its create
 * started), up to `poll_interval`: a node that becomes ready between two polls is seen at most ~2%
 * late, whatever its boot time. A schedule growing by half per poll padded a 2 s boot by 0.8 s, on
 * every level of the build.
 */
const POLL_FRACTION = 0.02;

/** Polls the combined state until `ready`; fast at first so short boots are not padded, then every `poll_interval`. */
async function waitUntilReady(ctx: EngineContext, record: InstanceRecord, timeoutS: number, signal: AbortSignal): Promise<Addresses> {
  const deadline = ctx.now() + timeoutS * 1000;
  const maxDelay = ctx.config.engine.poll_interval * 1000;
  // Polls listen on a signal of their own: on the batch's signal, shared by every create in flight,
  // each poll's listener would be added to (and searched through) one listener per sibling.
  const own = childController(signal);
  try {
    return await pollUntilReady(ctx, record, timeoutS, deadline, maxDelay, own.signal);
  } finally {
    own.dispose();
  }
}

async function pollUntilReady(
  ctx: EngineContext,
  record: InstanceRecord,
  timeoutS: number,
  deadline: number,
  maxDelay: number,
  own: AbortSignal,
): Promise<Addresses> {
  for (;;) {
    throwIfAborted(own);
    const seen = await observeInstance(ctx, record, { signal: own });
    if (seen.state === 'ready' && seen.addresses) return seen.addresses;
    if (seen.state === 'failed' || seen.state === 'shutdown') {
      throw new NodeFailedError(record.node_name, record.node_id, seen.state, seen.details);
    }
    if (ctx.now() >= deadline) throw new NodeCreationTimeoutError(record.node_name, record.node_id, timeoutS, seen.details);
    const delay = Math.min(maxDelay, Math.max(FIRST_POLL_MS, (ctx.now() - record.created_at) * POLL_FRACTION));
    await sleep(Math.min(delay, Math.max(0, deadline - ctx.now())), own);
  }
}
