/**
 * Which infrastructures the REST service maintains, recorded in the store so that a restarted
 * service resumes them (Occopus forgot them all, runtime §8.1). The mark is an infra meta value: it
 * goes away with the infrastructure's records, and it survives a stop of the service on purpose.
 * Services sharing a store all follow the same marks, so any of them can take over from one that dies.
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

/** How often a service brings its maintainers in line with the marks: a third of the lease, at least 1 s. */
export function syncIntervalMs(leaseTtlS: number): number {
  return Math.max(1000, Math.floor((leaseTtlS * 1000) / 3));
}

export interface MaintainersOptions {
  /** Default: {@link syncIntervalMs} of `leaseTtlMs`. */
  syncIntervalMs?: number;
  /** The config's `engine.lease_ttl` in ms (default 60 s). */
  leaseTtlMs?: number;
  /** How long a sync waits for a maintainer it stops (s). */
  stopWaitS?: number;
}

export type MaintainerState = 'active' | 'standby' | 'starting';

/**
 * The service's maintainers: the manager's process table plus the marks in the store. Every service
 * sharing a store runs a maintainer for every marked infrastructure; the lease lets one of them act
 * (`active`) while the others wait for it (`standby`) and take over when its holder dies. A periodic
 * sync keeps the table in line with marks other services add or remove.
 */
export class Maintainers {
  /** Infrastructures a start or stop of this service is working on: a sync leaves them alone. */
  private readonly busy = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<{ started: string[]; stopped: string[] }> | null = null;
  private closed = false;
  private lastSyncError: string | null = null;
  readonly syncIntervalMs: number;
  readonly leaseTtlMs: number;
  private readonly stopWaitS: number;

  constructor(
    readonly manager: InfrastructureManager,
    private readonly store: Store,
    private readonly log: Logger,
    options: MaintainersOptions = {},
  ) {
    this.leaseTtlMs = options.leaseTtlMs ?? 60_000;
    this.syncIntervalMs = options.syncIntervalMs ?? syncIntervalMs(this.leaseTtlMs / 1000);
    this.stopWaitS = options.stopWaitS ?? 60;
  }

  /**
   * How long an action that needs the lease (DELETE) waits for another service to let go once the
   * mark is gone: its next sync stops its maintainer, and a dead holder's lease expires meanwhile.
   */
  get handoverMs(): number {
    return this.syncIntervalMs + this.leaseTtlMs;
  }

  /** Whether a maintainer of this service runs for the infrastructure (acting or standby). */
  has(infraId: string): boolean {
    return this.manager.has(infraId);
  }

  list(): string[] {
    return this.manager.list();
  }

  /** `active`: holds the lease; `standby`: waits for another process's lease; `starting`: neither yet. */
  state(infraId: string): MaintainerState | null {
    if (!this.manager.has(infraId)) return null;
    const process = this.manager.get(infraId);
    if (process.holding) return 'active';
    return process.waiting ? 'standby' : 'starting';
  }

  /** Those this service acts on now (it holds their leases). */
  active(): string[] {
    return this.list().filter((id) => this.state(id) === 'active');
  }

  /** Those whose maintainer waits for a lease another process holds. */
  standby(): string[] {
    return this.list().filter((id) => this.state(id) === 'standby');
  }

  isMarked(infraId: string): Promise<boolean> {
    return isMarkedMaintained(this.store, infraId);
  }

  /** Starts maintaining (the manager throws InfrastructureIDTakenException if it already does). */
  async start(infraId: string): Promise<void> {
    this.hold(infraId);
    try {
      this.manager.attach(infraId);
      const mark: MaintainedMark = { since: Date.now() };
      await this.store.setInfraMeta(infraId, MAINTAINED_META_KEY, { ...mark });
    } finally {
      this.unhold(infraId);
    }
  }

  /**
   * Stops maintaining for good (detach, delete): the mark goes, so a restart does not resume it, and
   * the other services sharing the store stop theirs at their next sync.
   */
  async stop(infraId: string, waitTimeoutS = 60): Promise<void> {
    this.hold(infraId);
    try {
      await this.store.setInfraMeta(infraId, MAINTAINED_META_KEY, null);
      if (this.manager.has(infraId)) await this.manager.stop_provisioning(infraId, waitTimeoutS);
    } finally {
      this.unhold(infraId);
    }
  }

  /** Resumes every infrastructure marked as maintained. Returns the ids resumed. */
  async resume(): Promise<string[]> {
    return (await this.sync()).started;
  }

  /**
   * Brings the maintainers in line with the marks: starts one for every marked infrastructure this
   * service does not maintain (it waits while another process holds the lease), and stops those
   * whose mark another process removed or whose infrastructure is gone. Concurrent calls share one run.
   */
  sync(): Promise<{ started: string[]; stopped: string[] }> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  /** Syncs every {@link syncIntervalMs} until {@link shutdown}. */
  startSync(): void {
    if (this.timer || this.closed) return;
    const schedule = (): void => {
      this.timer = setTimeout(() => {
        this.sync()
          .then(
            () => {
              if (this.lastSyncError !== null) this.log.info('syncing the maintainers with the store works again');
              this.lastSyncError = null;
            },
            (e: unknown) => {
              // Said once per different failure, not at every tick while e.g. Redis is down.
              const message = messageOf(e);
              if (message !== this.lastSyncError) this.log.warn(`could not sync the maintainers with the store: ${message}`);
              this.lastSyncError = message;
            },
          )
          .finally(() => {
            if (!this.closed) schedule();
          });
      }, this.syncIntervalMs);
      this.timer.unref();
    };
    schedule();
  }

  /** Shutdown: ends the sync, stops every maintainer gracefully (their running passes roll back) and keeps the marks. */
  async shutdown(waitTimeoutS = 60): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.syncing?.catch(() => undefined);
    await Promise.all(
      this.manager.list().map((id) =>
        this.manager.stop_provisioning(id, waitTimeoutS).catch((e: unknown) => {
          this.log.warn({ infra_id: id }, `could not stop maintaining: ${messageOf(e)}`);
        }),
      ),
    );
  }

  private async syncOnce(): Promise<{ started: string[]; stopped: string[] }> {
    const marked = new Set(await listMarkedMaintained(this.store));
    const started: string[] = [];
    for (const id of marked) {
      if (this.closed) break;
      if (this.manager.has(id) || this.busy.has(id)) continue;
      // Read again: a stop of this service may have removed the mark since the list was read. From
      // here to attach() nothing awaits, so a stop that starts later finds the maintainer and stops it.
      if (!(await isMarkedMaintained(this.store, id))) continue;
      if (this.closed || this.manager.has(id) || this.busy.has(id)) continue;
      try {
        this.manager.attach(id);
        started.push(id);
        this.log.info({ infra_id: id }, 'maintaining (waiting while another process holds the lease)');
      } catch (e) {
        this.log.warn({ infra_id: id }, `could not start maintaining: ${messageOf(e)}`);
      }
    }
    const unmarked = this.manager.list().filter((id) => !marked.has(id) && !this.busy.has(id));
    const stopped: string[] = [];
    await Promise.all(
      unmarked.map(async (id) => {
        // Read again: the list above may predate a mark written by a start of this service.
        if (await isMarkedMaintained(this.store, id)) return;
        if (this.closed || this.busy.has(id) || !this.manager.has(id)) return;
        try {
          await this.manager.stop_provisioning(id, this.stopWaitS);
          stopped.push(id);
          this.log.info({ infra_id: id }, 'stopped maintaining: another process detached or deleted it');
        } catch (e) {
          this.log.warn({ infra_id: id }, `could not stop maintaining: ${messageOf(e)}`);
        }
      }),
    );
    return { started, stopped };
  }

  private hold(infraId: string): void {
    this.busy.set(infraId, (this.busy.get(infraId) ?? 0) + 1);
  }

  private unhold(infraId: string): void {
    const n = (this.busy.get(infraId) ?? 1) - 1;
    if (n > 0) this.busy.set(infraId, n);
    else this.busy.delete(infraId);
  }
}
