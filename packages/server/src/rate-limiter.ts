export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/** Per-user limit on sends, shared by all of a user's connections (and, in a cluster, all nodes). */
export interface RateLimiter {
  take(userId: string): RateDecision | Promise<RateDecision>;
  close(): Promise<void>;
}
