/** Views of a journaled instance record (Occopus's instance_data) for the engine and the drivers. */
import type { JsonObject, ResourceSection } from '../descriptors/types.js';
import type { Addresses, InstanceHandle } from '../drivers/resource-handler.js';
import type { ResolvedNode } from '../resolution/resolve.js';
import type { NodeDescription } from '../compiler/types.js';
import type { InstanceRecord } from '../store/store.js';

/** The `data` of an instance record. */
export interface InstanceData {
  node_description: NodeDescription;
  resolved_node_definition: ResolvedNode;
  resource: ResourceSection;
  driver_data?: JsonObject;
  /** Last addresses seen while the instance was ready (used by getip and reports). */
  addresses?: Addresses;
}

export function instanceData(record: InstanceRecord): InstanceData {
  return record.data as unknown as InstanceData;
}

/** JSON-clean copy, so what is stored is exactly what every backend returns. */
export function toJsonObject(value: unknown): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}

export function handleOf(record: InstanceRecord): InstanceHandle {
  const data = instanceData(record);
  return {
    node_id: record.node_id,
    infra_id: record.infra_id,
    instance_id: record.instance_id ?? '',
    resource: data.resource,
    driver_data: data.driver_data ?? {},
  };
}

export function primaryAddress(addresses: Addresses | undefined): string | null {
  return addresses?.public[0] ?? addresses?.private[0] ?? null;
}

export function allAddresses(addresses: Addresses | undefined): string[] {
  return [...new Set([...(addresses?.public ?? []), ...(addresses?.private ?? [])])];
}
