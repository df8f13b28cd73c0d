/**
 * Which infrastructures the REST service maintains, recorded in the store so that a restarted
 * service resumes them (Occopus forgot them all, runtime §8.1). The mark is an infra meta value: it
 * goes away with the infrastructure's records, and it survives a stop of the service on purpose.
 */
import type { InfrastructureManager } from '../api/manager.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/logger.js';
import { messageOf } from '../errors.js';

export const MAINTAINED_META_KEY = 'maintained';

export interface MaintainedMark {
  /** Epoch milliseconds when maintenance was asked for (POST or attach). */
  since: number;
}

export async function isMarkedMaintained(store: Store, infraId: string): Promise<boolean> {
  const mark = await store.getInfraMeta(infraId, MAINTAINED_META_KEY);
  return mark !== null && mark !== false;
}

/** The infrastructures marked as maintained, in creation order. */
export async function listMarkedMaintained(store: Store): Promise<string[]> {
  const marked: string[] = [];
  for (const id of await store.listInfrastructures()) if (await isMarkedMaintained(store, id)) marked.push(id);
  return marked;
}

/** The service's maintainers: the manager's process table plus the marks in the store. */
export class Maintainers {
  constructor(
    readonly manager: InfrastructureManager,
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  has(infraId: string): boolean {
    return this.manager.has(infraId);
  }

  list(): string[] {
    return this.manager.list();
  }

  /** Starts maintaining (the manager throws InfrastructureIDTakenException if it already does). */
  async start(infraId: string): Promise<void> {
    this.manager.attach(infraId);
    const mark: MaintainedMark = { since: Date.now() };
    await this.store.setInfraMeta(infraId, MAINTAINED_META_KEY, { ...mark });
  }

  /** Stops maintaining for good (detach, delete): the mark goes, so a restart does not resume it. */
  async stop(infraId: string, waitTimeoutS = 60): Promise<void> {
    await this.store.setInfraMeta(infraId, MAINTAINED_META_KEY, null);
    if (this.manager.has(infraId)) await this.manager.stop_provisioning(infraId, waitTimeoutS);
  }

  /** Resumes every infrastructure marked as maintained. Returns the ids resumed. */
  async resume(): Promise<string[]> {
    const resumed: string[] = [];
    for (const id of await listMarkedMaintained(this.store)) {
      if (this.manager.has(id)) continue;
      try {
        this.manager.attach(id);
        resumed.push(id);
      } catch (e) {
        this.log.warn({ infra_id: id }, `could not resume maintaining: ${messageOf(e)}`);
      }
    }
    return resumed;
  }

  /** Shutdown: stops every maintainer gracefully (their running passes roll back) and keeps the marks. */
  async shutdown(waitTimeoutS = 60): Promise<void> {
    await Promise.all(
      this.manager.list().map((id) =>
        this.manager.stop_provisioning(id, waitTimeoutS).catch((e: unknown) => {
          this.log.warn({ infra_id: id }, `could not stop maintaining: ${messageOf(e)}`);
        }),
      ),
    );
  }
}
