/**
 * The engine's typed event stream: Occopus's events (runtime §6.1) plus health changes, scaling
 * decisions and errors. One emitter, several consumers: the store (so other processes and the REST
 * event stream can read them), the log, and in-process listeners (CLI live view, SSE).
 *
 * Emitting never throws into orchestration: a failing sink is logged and ignored (Occopus let
 * notifier errors abort a batch, runtime §10.26).
 */
import type { JsonObject } from '../descriptors/types.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../util/logger.js';

export type EngineEventName =
  | 'infrastart'
  | 'infraupdated'
  | 'infraready'
  | 'infradrop'
  | 'nodecreating'
  | 'nodecreated'
  | 'nodedropping'
  | 'nodedropped'
  | 'nodefailed'
  | 'nodeadopted'
  | 'healthchanged'
  | 'scaling'
  | 'error';

export interface EngineEvent {
  infra_id: string;
  name: EngineEventName;
  /** Epoch milliseconds. */
  timestamp: number;
  data: JsonObject;
}

export type EventListener = (event: EngineEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  constructor(
    private readonly store: Store | null,
    private readonly log: Logger,
  ) {}

  /** Returns a function that removes the listener. */
  on(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async emit(infraId: string, name: EngineEventName, data: JsonObject = {}): Promise<void> {
    const event: EngineEvent = { infra_id: infraId, name, timestamp: Date.now(), data };
    this.log.info({ event: name, infra_id: infraId, ...data }, `${infraId} ;; ${name}`);
    if (this.store) {
      try {
        await this.store.appendEvent(infraId, name, event.timestamp, data);
      } catch (e) {
        this.log.warn({ err: String(e) }, `could not store event ${name}`);
      }
    }
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (e) {
        this.log.warn({ err: String(e) }, `event listener failed on ${name}`);
      }
    }
  }
}
