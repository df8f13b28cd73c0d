/**
 * DropNode (runtime §4.2) with the journal: the record is marked `dropping` first and removed only
 * after the driver confirmed the drop, so a failed drop is retried by the next pass instead of
 * leaking the resource (Occopus forgot failed and shutdown nodes first, runtime §10.2–3).
 */
import type { InstanceRecord } from '../store/store.js';
import type { EngineContext } from './context.js';
import { handleOf, instanceData } from './instance.js';
import { DropFailedError } from './errors.js';
import { forgetNodeTimers } from '../health/failure-timer.js';

export async function dropInstance(ctx: EngineContext, record: InstanceRecord, reason = 'requested'): Promise<void> {
  const data = instanceData(record);
  const infraId = record.infra_id;
  const fields = {
    node_id: record.node_id,
    node_name: record.node_name,
    reason,
    endpoint: typeof data.resource.endpoint === 'string' ? data.resource.endpoint : null,
  };
  await ctx.events.emit(infraId, 'nodedropping', fields);
  try {
    await ctx.store.updateInstance(infraId, record.node_id, { lifecycle: 'dropping' });
    const handler = await ctx.drivers.handlerFor(data.resource);
    let handle = handleOf(record);
    if (!record.instance_id) {
      // Journaled but the create never returned: the resource may exist under its idempotency key.
      const found = await handler.find(record.node_id, { infra_id: infraId, resource: data.resource });
      handle = found ? { ...handle, instance_id: found.instance_id, driver_data: found.driver_data ?? {} } : handle;
      if (!found) handle.instance_id = '';
    }
    if (handle.instance_id) await handler.drop(handle);
    const manager = await ctx.drivers.managerFor(data.resolved_node_definition.config_management);
    await manager.dropNode(record);
    await ctx.store.removeInstance(infraId, record.node_id);
    await forgetNodeTimers(ctx.store, infraId, record.node_id);
  } catch (e) {
    const error = new DropFailedError(record.node_name, record.node_id, e);
    await ctx.events.emit(infraId, 'error', { ...fields, message: error.message });
    throw error;
  }
  await ctx.events.emit(infraId, 'nodedropped', fields);
}
