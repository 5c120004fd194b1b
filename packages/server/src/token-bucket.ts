// Floating-point refill can leave a bucket a few ulps short of a token after exactly the wait that
// `take` reported. A token this close to whole counts as whole.
const TOKEN_EPSILON = 1e-9;

/**
 * A token bucket: holds up to `burst` tokens and refills at `ratePerSecond`. Pure: the caller passes
 * the time, so tests need no clock.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAtMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.updatedAtMs = nowMs;
  }

  /** Takes one token. Returns 0 when it was available, else the milliseconds until one will be. */
  take(nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= 1 - TOKEN_EPSILON) {
      this.tokens -= 1;
      return 0;
    }
    if (this.ratePerSecond <= 0) {
      return Number.MAX_SAFE_INTEGER;
    }
    return Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
  }

  /** Returns whether the bucket has refilled completely, so that dropping it loses nothing. */
  isFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.burst;
  }

  private refill(nowMs: number): void {
    const elapsedMs = Math.max(0, nowMs - this.updatedAtMs);
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.ratePerSecond) / 1000);
    // A clock that steps back must not move the mark back too, or the same interval refills twice.
    this.updatedAtMs = Math.max(this.updatedAtMs, nowMs);
  }
}
