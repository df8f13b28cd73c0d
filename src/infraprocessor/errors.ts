/**
 * InfraProcessor errors (runtime §4.3). Critical errors abort the rest of a batch; minor ones (a
 * drop that failed and will be retried) are logged and the batch goes on.
 */
import { OccopusError } from '../errors.js';
import type { ResourceState } from '../drivers/resource-handler.js';

/** Creating one node failed; whatever it had created has been rolled back (or is journaled for retry). */
export class NodeCreationError extends OccopusError {
  constructor(
    readonly nodeName: string,
    readonly nodeId: string,
    message: string,
    cause?: unknown,
  ) {
    super('E_NODE_CREATION', `node '${nodeName}' (${nodeId}): ${message}`, { cause });
  }
}

export class NodeFailedError extends NodeCreationError {
  constructor(nodeName: string, nodeId: string, readonly state: ResourceState, details: string[]) {
    super(nodeName, nodeId, `node has failed (state=${state})${details.length ? `: ${details.join('; ')}` : ''}`);
  }
}

export class NodeCreationTimeoutError extends NodeCreationError {
  constructor(nodeName: string, nodeId: string, seconds: number, details: string[]) {
    super(
      nodeName,
      nodeId,
      `not ready after ${seconds}s (create_timeout)${details.length ? `: ${details.join('; ')}` : ''}`,
    );
  }
}

/** A drop that did not complete; the instance stays journaled as `dropping` and is retried. */
export class DropFailedError extends OccopusError {
  constructor(nodeName: string, nodeId: string, cause: unknown) {
    super('E_DRIVER', `could not drop node '${nodeName}' (${nodeId}): ${cause instanceof Error ? cause.message : String(cause)}; it will be retried`, { cause });
  }
}
