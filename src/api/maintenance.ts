/**
 * InfrastructureMaintenanceProcess (seed API, runtime §7.2): keeps one infrastructure at its
 * description by running an enactor pass every `enactorInterval` seconds, under the
 * infrastructure's maintenance lease. Runs inside the calling process (Occopus forked one OS
 * process per infrastructure); errors in a pass are reported and the loop goes on.
 */
import type { Engine } from './engine.js';
import { MaintenanceLease, newHolderId } from './lease.js';
import type { ProcessStrategy } from '../infraprocessor/infraprocessor.js';
import type { PassResult } from '../enactor/enactor.js';
import { CancelledError, childController, sleep } from '../util/abort.js';
import { ConflictError, NotFoundError, StoreError, messageOf } from '../errors.js';

export interface MaintenanceEvents {
  /** `durationMs`: how long the pass took (e.g. for metrics). */
  onPass?: (result: PassResult, durationMs: number) => void;
  onError?: (error: unknown, durationMs: number) => void;
  /** Waiting for the lease another process holds. */
  onWaiting?: (message: string) => void;
}

/**
 * How often a maintainer waiting for another process's lease tries again. The holder renews every
 * ttl/3, so its lease is gone at most one ttl after its last renewal; polling every ttl/4 takes over
 * within a quarter ttl of that while costing a standby only four store round trips per ttl.
 */
export function standbyPollMs(ttlMs: number): number {
  return Math.max(100, Math.floor(ttlMs / 4));
}

export class InfrastructureMaintenanceProcess {
  private stopper: AbortController | null = null;
  private loop: Promise<void> | null = null;
  private held = false;
  private standby = false;
  passes = 0;
  lastError: string | null = null;
  /** The lease holder id of the running loop (`maintain@host:pid:nonce`); null before the first start. */
  holder: string | null = null;

  constructor(
    private readonly engine: Engine,
    readonly infraId: string,
    readonly enactorInterval = 10,
    readonly processStrategy: ProcessStrategy = 'sequential',
    private readonly events: MaintenanceEvents = {},
  ) {}

  get running(): boolean {
    return this.loop !== null;
  }

  /** Whether it holds the maintenance lease now, i.e. it is the one process acting on the infrastructure. */
  get holding(): boolean {
    return this.held;
  }

  /** Whether it is waiting for the lease another process holds (a standby). */
  get waiting(): boolean {
    return this.standby;
  }

  /** Starts the loop; `once` makes a single pass (waiting for the lease if another process holds it). */
  start(options: { once?: boolean; leaseWaitMs?: number } = {}): Promise<void> {
    if (this.loop) return this.loop;
    this.stopper = new AbortController();
    this.loop = this.run(this.stopper.signal, options).finally(() => {
      this.loop = null;
      this.held = false;
      this.standby = false;
    });
    return this.loop;
  }

  /** Stops gracefully: the running pass is cancelled (its in-flight creates roll back) and the lease released. */
  async stop(waitTimeoutS = 60): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    this.stopper?.abort(new CancelledError('maintenance stopped'));
    // The timer is cancelled once the loop ends: a pending one would keep the process alive.
    const timeout = new AbortController();
    await Promise.race([loop, sleep(waitTimeoutS * 1000, timeout.signal).catch(() => undefined)]);
    timeout.abort();
  }

  private async run(stop: AbortSignal, options: { once?: boolean; leaseWaitMs?: number }): Promise<void> {
    const { store, config } = this.engine.ctx;
    const holder = newHolderId('maintain');
    this.holder = holder;
    const ttlMs = config.engine.lease_ttl * 1000;
    let waitingSaidAt = 0;
    while (!stop.aborted) {
      let lease: MaintenanceLease;
      try {
        // A continuous maintainer polls at its own (slow) rate below, so a standby does not hammer the store.
        lease = await MaintenanceLease.acquire(store, this.infraId, holder, ttlMs, {
          waitMs: options.once ? (options.leaseWaitMs ?? 0) : 0,
          signal: stop,
        });
      } catch (e) {
        if (stop.aborted) break;
        if (e instanceof ConflictError && !options.once) {
          // Said when the wait starts, then once per ttl as before, not at every poll.
          if (!this.standby || Date.now() - waitingSaidAt >= ttlMs) {
            waitingSaidAt = Date.now();
            this.events.onWaiting?.(e.message);
          }
          this.standby = true;
          await sleep(standbyPollMs(ttlMs), stop).catch(() => undefined);
          continue;
        }
        if (e instanceof StoreError && !options.once) {
          // The store is unreachable (e.g. Redis is down): pause, and carry on once it is back.
          this.lastError = messageOf(e);
          this.events.onWaiting?.(messageOf(e));
          await sleep(this.enactorInterval * 1000, stop).catch(() => undefined);
          continue;
        }
        throw e;
      }
      this.standby = false;
      this.held = true;
      try {
        while (!stop.aborted && !lease.signal.aborted) {
          const pass = childController(stop, lease.signal);
          const started = Date.now();
          try {
            const result = await this.engine.enactor(this.processStrategy).makeAPass(this.infraId, pass.signal);
            this.passes++;
            this.lastError = null;
            this.events.onPass?.(result, Date.now() - started);
          } catch (e) {
            if (stop.aborted) break;
            if (e instanceof NotFoundError) throw e;
            this.lastError = messageOf(e);
            if (options.once) throw e;
            this.events.onError?.(e, Date.now() - started);
          } finally {
            pass.dispose();
          }
          if (options.once) return;
          await sleep(this.enactorInterval * 1000, stop).catch(() => undefined);
        }
      } finally {
        this.held = false;
        await lease.release();
      }
    }
  }
}
