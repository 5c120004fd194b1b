import type { Logger } from 'pino';

import type { RateDecision, RateLimiter } from '../rate-limiter.js';
import { defineScript, type RedisLink } from './redis-link.js';

export interface RedisRateLimiterOptions {
  ratePerSecond: number;
  burst: number;
  /** Limiter used while Redis is unreachable, so the limit then applies per node instead of per cluster. */
  fallback: RateLimiter;
}

// A token bucket per user, read and updated atomically. The time comes from the Redis server's
// clock, so nodes whose clocks disagree share one bucket correctly. The bucket expires once it
// would have refilled anyway.
// KEYS[1]: bucket; ARGV: rate per second, burst. Returns 0 when allowed, else the wait in ms.
const TAKE_TOKEN = defineScript(`
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(stored[1]) or burst
local at = tonumber(stored[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
elseif rate <= 0 then
  wait = 9007199254740991
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
local refillMs = 60000
if rate > 0 then
  refillMs = math.ceil(burst * 1000 / rate) + 1000
end
redis.call('PEXPIRE', KEYS[1], refillMs)
return wait
`);

/**
 * The send rate limit of each user, shared by all of the user's connections on every node. While
 * Redis is away the fallback limiter (per node) decides, so sends go on.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly ratePerSecond: number;
  private readonly burst: number;
  private readonly fallback: RateLimiter;
  private usingFallback = false;

  constructor(
    private readonly link: RedisLink,
    private readonly logger: Logger,
    options: RedisRateLimiterOptions,
  ) {
    this.ratePerSecond = options.ratePerSecond;
    this.burst = options.burst;
    this.fallback = options.fallback;
    link.retain();
  }

  async take(userId: string): Promise<RateDecision> {
    if (this.link.isReady) {
      try {
        const wait = Number(
          await this.link.runScript(TAKE_TOKEN, [this.link.key(`rate:${userId}`)], [
            String(this.ratePerSecond),
            String(this.burst),
          ]),
        );
        this.useRedis();
        return wait === 0 ? { allowed: true } : { allowed: false, retryAfterMs: wait };
      } catch (error) {
        this.useFallback(error);
      }
    } else {
      this.useFallback(undefined);
    }
    return this.fallback.take(userId);
  }

  async close(): Promise<void> {
    await this.fallback.close();
    await this.link.release();
  }

  private useFallback(error: unknown): void {
    if (!this.usingFallback) {
      this.usingFallback = true;
      this.logger.warn({ err: error }, 'Redis unavailable for rate limits; limiting per node until it returns');
    }
  }

  private useRedis(): void {
    if (this.usingFallback) {
      this.usingFallback = false;
      this.logger.info('rate limits shared through Redis again');
    }
  }
}
