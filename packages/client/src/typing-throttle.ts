export interface TypingThrottleOptions {
  /** While the user keeps typing, a start is sent again after this many milliseconds. */
  renewIntervalMs: number;
  /** A stop is due this many milliseconds after the last keystroke. */
  idleMs: number;
}

/** A typing frame to send, or null when nothing needs to go out. */
export type TypingSignal = 'start' | 'stop' | null;

/**
 * Turns a stream of keystrokes into few typing frames. It sends one start, then a renewed start
 * every `renewIntervalMs` while typing goes on, so the server's expiry does not fire mid-word.
 * It sends one stop when the user pauses for `idleMs` or clears the input, and none after a send.
 * Times are passed in, so the class has no timers of its own.
 */
export class TypingThrottle {
  readonly #options: TypingThrottleOptions;
  #typing = false;
  #lastStartMs = 0;
  #lastKeystrokeMs = 0;

  constructor(options: TypingThrottleOptions) {
    if (!(options.renewIntervalMs > 0) || !(options.idleMs > 0)) {
      throw new RangeError(
        `typing renewIntervalMs and idleMs must be positive, got ${options.renewIntervalMs} and ${options.idleMs}`,
      );
    }
    this.#options = options;
  }

  get typing(): boolean {
    return this.#typing;
  }

  /** Records a keystroke at `nowMs`. */
  keystroke(nowMs: number): TypingSignal {
    this.#lastKeystrokeMs = nowMs;
    if (this.#typing && nowMs - this.#lastStartMs < this.#options.renewIntervalMs) {
      return null;
    }
    this.#typing = true;
    this.#lastStartMs = nowMs;
    return 'start';
  }

  /** Records that the user stopped typing (cleared the input, left the field). */
  stop(): TypingSignal {
    if (!this.#typing) {
      return null;
    }
    this.#typing = false;
    return 'stop';
  }

  /** Records a sent message: the server ends the sender's typing itself, so no frame is due. */
  messageSent(): void {
    this.#typing = false;
  }

  /** Forgets every start, as after a reconnect, where the new session has no typing state. */
  reset(): void {
    this.#typing = false;
  }

  /** When a stop becomes due if no keystroke comes, or null while not typing. */
  idleDeadlineMs(): number | null {
    return this.#typing ? this.#lastKeystrokeMs + this.#options.idleMs : null;
  }

  /** Returns 'stop' once the user has been idle for `idleMs`. */
  checkIdle(nowMs: number): TypingSignal {
    const deadline = this.idleDeadlineMs();
    if (deadline === null || nowMs < deadline) {
      return null;
    }
    return this.stop();
  }
}
