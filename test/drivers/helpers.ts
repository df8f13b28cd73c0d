/** Small builders shared by the driver tests. */
import type { ContextualisationSection, ResourceSection } from '../../src/descriptors/types.js';
import type { ResolvedNode } from '../../src/resolution/resolve.js';
import type { DriverLogger } from '../../src/drivers/resource-handler.js';

export interface NodeParts {
  name?: string;
  contextualisation?: ContextualisationSection;
  context?: string;
  attributes?: Record<string, unknown>;
}

/** A resolved node as the resolution layer hands it to a driver (formats §5.2). */
export function resolvedNode(resource: ResourceSection, infraId: string, nodeId: string, parts: NodeParts = {}): ResolvedNode {
  return {
    resource,
    contextualisation: parts.contextualisation ?? { type: 'basic' },
    node_id: nodeId,
    name: parts.name ?? 'web',
    infra_id: infraId,
    infra_name: 'test-infra',
    ...(parts.context !== undefined ? { context: parts.context } : {}),
    attributes: parts.attributes ?? {},
    synch_attrs: [],
    create_timeout: null,
  };
}

/** A docker-form node: `command` and `env` go to `attributes`, as the docker resolver puts them. */
export function dockerNode(
  resource: ResourceSection,
  infraId: string,
  nodeId: string,
  command: string | string[],
  env: string[] = [],
): ResolvedNode {
  return resolvedNode(resource, infraId, nodeId, {
    contextualisation: { type: 'docker', env, command },
    attributes: { env, command },
  });
}

export function cloudinitNode(resource: ResourceSection, infraId: string, nodeId: string, context: string): ResolvedNode {
  return resolvedNode(resource, infraId, nodeId, { contextualisation: { type: 'cloudinit' }, context });
}

export interface RecordingLog extends DriverLogger {
  warnings: string[];
}

export function recordingLog(): RecordingLog {
  const warnings: string[] = [];
  return { warnings, debug: () => undefined, info: () => undefined, warn: (m) => void warnings.push(m) };
}
