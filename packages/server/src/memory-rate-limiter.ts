import type { RateDecision, RateLimiter } from './rate-limiter.js';
import { TokenBucket } from './token-bucket.js';

// Buckets of idle users are swept once the map grows past this many entries.
const SWEEP_THRESHOLD_ENTRIES = 10_000;

/** Per-user token buckets held in this process: shared by a user's connections on one node. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly ratePerSecond: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(options: { ratePerSecond: number; burst: number; now?: () => number }) {
    this.ratePerSecond = options.ratePerSecond;
    this.burst = options.burst;
    this.now = options.now ?? Date.now;
  }

  take(userId: string): RateDecision {
    const nowMs = this.now();
    let bucket = this.buckets.get(userId);
    if (bucket === undefined) {
      if (this.buckets.size >= SWEEP_THRESHOLD_ENTRIES) {
        this.sweep(nowMs);
      }
      bucket = new TokenBucket(this.ratePerSecond, this.burst, nowMs);
      this.buckets.set(userId, bucket);
    }

    const waitMs = bucket.take(nowMs);
    return waitMs === 0 ? { allowed: true } : { allowed: false, retryAfterMs: waitMs };
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }

  private sweep(nowMs: number): void {
    for (const [userId, bucket] of this.buckets) {
      if (bucket.isFull(nowMs)) {
        this.buckets.delete(userId);
      }
    }
  }
}
