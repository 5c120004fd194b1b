import { SILENT_LOGGER, type Logger } from './logger.js';

type Listener<T> = (payload: T) => void;

/**
 * A minimal event emitter whose event names and payload types come from `Events`, so a listener
 * for a misspelt event or with the wrong payload type fails to compile.
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Logger that receives errors thrown by listeners; subclasses replace it. */
  protected emitterLogger: Logger = SILENT_LOGGER;

  /** Adds a listener and returns a function that removes it. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let listeners = this.#listeners.get(event);
    if (listeners === undefined) {
      listeners = new Set();
      this.#listeners.set(event, listeners);
    }
    listeners.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  /** Adds a listener that is removed after its first call. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const remove = this.on(event, (payload) => {
      remove();
      listener(payload);
    });
    return remove;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  /** Number of listeners of one event, mainly for tests that check cleanup. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const listeners = this.#listeners.get(event);
    if (listeners === undefined) {
      return;
    }

    // A copy, so that a listener that removes itself or adds another does not disturb the loop.
    for (const listener of [...listeners]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        // A throwing listener must not leave the SDK's state half updated, so the error is
        // logged and rethrown outside this call stack, where the host reports it as uncaught.
        this.emitterLogger.error('event listener threw', { event: String(event), error });
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
