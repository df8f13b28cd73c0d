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

export class InfrastructureMaintenanceProcess {
  private stopper: AbortController | null = null;
  private loop: Promise<void> | null = null;
  passes = 0;
  lastError: string | null = null;

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

  /** Starts the loop; `once` makes a single pass (waiting for the lease if another process holds it). */
  start(options: { once?: boolean; leaseWaitMs?: number } = {}): Promise<void> {
    if (this.loop) return this.loop;
    this.stopper = new AbortController();
    this.loop = this.run(this.stopper.signal, options).finally(() => {
      this.loop = null;
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
    const ttlMs = config.engine.lease_ttl * 1000;
    while (!stop.aborted) {
      let lease: MaintenanceLease;
      try {
        lease = await MaintenanceLease.acquire(store, this.infraId, holder, ttlMs, {
          waitMs: options.once ? (options.leaseWaitMs ?? 0) : ttlMs,
          signal: stop,
        });
      } catch (e) {
        if (stop.aborted) break;
        if (e instanceof ConflictError && !options.once) {
          this.events.onWaiting?.(e.message);
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
        await lease.release();
      }
    }
  }
}
