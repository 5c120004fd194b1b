/** Bounds of a full-jitter exponential backoff. */
export interface BackoffPolicy {
  /** Upper bound of the first delay, in milliseconds. */
  initialDelayMs: number;
  /** Cap of every delay, in milliseconds. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF_POLICY: BackoffPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
};

/**
 * Full-jitter exponential backoff: the delay before retry `n` (counting from 0) is uniform in
 * `[0, min(maxDelayMs, initialDelayMs * 2^n))`. Drawing from the whole range, rather than adding a
 * little noise to a fixed delay, keeps many clients that lost the same server from reconnecting
 * in waves.
 */
export class Backoff {
  readonly policy: BackoffPolicy;
  readonly #random: () => number;
  #attempt = 0;

  constructor(policy: Partial<BackoffPolicy> = {}, random: () => number = Math.random) {
    const merged = { ...DEFAULT_BACKOFF_POLICY, ...policy };
    if (!(merged.initialDelayMs > 0) || !(merged.maxDelayMs >= merged.initialDelayMs)) {
      throw new RangeError(
        `backoff needs 0 < initialDelayMs <= maxDelayMs, got initialDelayMs=${merged.initialDelayMs} ` +
          `maxDelayMs=${merged.maxDelayMs}`,
      );
    }
    this.policy = merged;
    this.#random = random;
  }

  /** Retries taken since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** Returns the upper bound of the delay for retry `attempt`, before jitter. */
  ceilingMs(attempt: number): number {
    // 2 ** attempt overflows to Infinity past ~1024; Math.min turns that into the cap.
    return Math.min(this.policy.maxDelayMs, this.policy.initialDelayMs * 2 ** attempt);
  }

  /** Returns the delay before the next retry and counts the retry. */
  next(): number {
    const delayMs = Math.floor(this.#random() * this.ceilingMs(this.#attempt));
    this.#attempt++;
    return delayMs;
  }

  /** Starts again from the first delay, after a connection proved stable. */
  reset(): void {
    this.#attempt = 0;
  }
}
