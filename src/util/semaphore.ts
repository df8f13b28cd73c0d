/**
 * A counting semaphore: at most `capacity` tasks run at once, the others wait in FIFO order.
 * Shared by everything that must not flood a host or a network (e.g. all health probes of a pass).
 */
export class Semaphore {
  readonly capacity: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Semaphore capacity must be a positive integer, got ${String(capacity)}`);
    }
    this.capacity = capacity;
  }

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Runs `fn` once a slot is free; the slot is released however `fn` ends. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.capacity) {
      this.active++;
      return Promise.resolve();
    }
    // The slot is handed over directly by release(), so `active` never dips and lets a newcomer jump the queue.
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** `limit(fn)` runs `fn` with at most `capacity` such calls in flight (p-limit style). */
export function limit(capacity: number): <T>(fn: () => Promise<T> | T) => Promise<T> {
  const semaphore = new Semaphore(capacity);
  return (fn) => semaphore.run(fn);
}
