/**
 * One maintainer per infrastructure: a lease in the store, renewed while its holder works. A holder
 * that loses its lease (expired while it was stalled, or taken over) is told through its signal and
 * stops acting.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/store.js';
import { ConflictError } from '../errors.js';
import { sleep } from '../util/abort.js';

export function leaseKey(infraId: string): string {
  return `maintain:${infraId}`;
}

export function newHolderId(role: string): string {
  return `${role}@${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** `role@host:pid:nonce` of a process on this host that no longer exists. */
export function holderIsDeadLocalProcess(holder: string): boolean {
  const m = /^[^@]+@(.+):(\d+):[^:]+$/.exec(holder);
  if (!m || m[1] !== hostname()) return false;
  const pid = Number(m[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export class MaintenanceLease {
  private timer: NodeJS.Timeout | null = null;
  private readonly lost = new AbortController();

  private constructor(
    private readonly store: Store,
    readonly key: string,
    readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Aborted when the lease is lost. */
  get signal(): AbortSignal {
    return this.lost.signal;
  }

  /**
   * Takes the lease on `infraId`. With `waitMs` > 0 it retries until then; otherwise a lease held
   * by someone else is a ConflictError naming the holder.
   */
  static async acquire(
    store: Store,
    infraId: string,
    holder: string,
    ttlMs: number,
    options: { waitMs?: number; signal?: AbortSignal } = {},
  ): Promise<MaintenanceLease> {
    const key = leaseKey(infraId);
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (;;) {
      if (await store.acquireLease(key, holder, ttlMs)) {
        const lease = new MaintenanceLease(store, key, holder, ttlMs);
        lease.startRenewing();
        return lease;
      }
      const current = await store.getLease(key);
      if (current && holderIsDeadLocalProcess(current.holder)) {
        // Left by a process of this host that died (e.g. SIGKILL): no need to wait for it to expire.
        await store.releaseLease(key, current.holder);
        continue;
      }
      if (Date.now() >= deadline) {
        throw new ConflictError(
          `infrastructure '${infraId}' is being maintained by ${current?.holder ?? 'another process'}` +
            (current ? ` (lease expires in ${Math.max(0, Math.ceil((current.expires_at - Date.now()) / 1000))}s)` : ''),
        );
      }
      await sleep(Math.min(500, Math.max(50, ttlMs / 10)), options.signal);
    }
  }

  private startRenewing(): void {
    let renewedAt = Date.now();
    this.timer = setInterval(() => {
      this.store.renewLease(this.key, this.holder, this.ttlMs).then(
        (held) => {
          if (!held) this.markLost('the maintenance lease was taken over');
          else renewedAt = Date.now();
        },
        () => {
          // A store outage: keep trying until the lease would have expired; after that another
          // process may hold it, so this one must stop acting.
          if (Date.now() - renewedAt > this.ttlMs) this.markLost('the maintenance lease expired while the store was unreachable');
        },
      );
    }, Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  private markLost(reason: string): void {
    if (!this.lost.signal.aborted) this.lost.abort(new ConflictError(reason));
    this.stopRenewing();
  }

  private stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async release(): Promise<void> {
    this.stopRenewing();
    await this.store.releaseLease(this.key, this.holder).catch(() => undefined);
  }
}
