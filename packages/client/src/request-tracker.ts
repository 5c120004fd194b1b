import { ConfabError } from './confab-error.js';

interface PendingRequest {
  resolve(frame: unknown): void;
  reject(error: ConfabError): void;
  onReply: ((frame: unknown) => void) | undefined;
  timer: ReturnType<typeof setTimeout>;
  type: string;
}

/**
 * Matches replies to requests by `requestId` and fails a request that gets no reply in time.
 * One tracker serves a client for its whole life, so request ids never repeat across reconnects.
 */
export class RequestTracker {
  readonly #pending = new Map<string, PendingRequest>();
  #counter = 0;

  get size(): number {
    return this.#pending.size;
  }

  nextId(): string {
    this.#counter++;
    return `r${this.#counter}`;
  }

  /**
   * Registers a request. `onReply`, when given, runs synchronously as the reply is dispatched,
   * before any later frame of the same socket is processed. A promise continuation would run
   * only after the frames that arrived in the same network read.
   */
  track<T>(requestId: string, type: string, timeoutMs: number, onReply?: (frame: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new ConfabError('timeout', `${type} request ${requestId} got no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(requestId, {
        resolve: resolve as (frame: unknown) => void,
        reject,
        onReply: onReply as ((frame: unknown) => void) | undefined,
        timer,
        type,
      });
    });
  }

  /** Settles the request a reply belongs to; returns false when no such request is pending. */
  resolve(requestId: string, frame: unknown): boolean {
    const pending = this.#take(requestId);
    if (pending === undefined) {
      return false;
    }
    pending.onReply?.(frame);
    pending.resolve(frame);
    return true;
  }

  reject(requestId: string, error: ConfabError): boolean {
    const pending = this.#take(requestId);
    if (pending === undefined) {
      return false;
    }
    pending.reject(error);
    return true;
  }

  /** Fails every pending request, for example when the connection closes. */
  rejectAll(error: ConfabError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const request of pending) {
      clearTimeout(request.timer);
      request.reject(error);
    }
  }

  #take(requestId: string): PendingRequest | undefined {
    const pending = this.#pending.get(requestId);
    if (pending !== undefined) {
      this.#pending.delete(requestId);
      clearTimeout(pending.timer);
    }
    return pending;
  }
}
