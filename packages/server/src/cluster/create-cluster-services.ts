import { randomUUID } from 'node:crypto';

import type { Logger } from 'pino';

import type { Broker } from '../broker/broker.js';
import type { ServerConfig } from '../config.js';
import type { PresenceService } from '../presence-service.js';
import type { RateLimiter } from '../rate-limiter.js';
import type { MessageStore } from '../store/message-store.js';
import { PostgresStore } from '../store/postgres-store.js';
import type { TypingService } from '../typing-service.js';
import type { ClusterSettings } from './cluster-settings.js';
import { RedisBroker } from './redis-broker.js';
import { RedisLink } from './redis-link.js';
import { RedisPresence } from './redis-presence.js';
import { RedisRateLimiter } from './redis-rate-limiter.js';
import { RedisTyping } from './redis-typing.js';
import { RoomChannels } from './room-channels.js';

/** The services that Redis shares between nodes. */
export interface RedisServices {
  broker: Broker;
  presence: PresenceService;
  typing: TypingService;
  rateLimiter: RateLimiter;
}

/**
 * Returns the id of this process in the cluster: the configured node id plus a random suffix, new
 * at every start, so that entries a crashed process left in Redis never pass for a restarted one's.
 */
export function createNodeInstanceId(nodeId: string): string {
  return `${nodeId}~${randomUUID().slice(0, 8)}`;
}

export function createPostgresStore(config: ServerConfig, settings: ClusterSettings, logger: Logger): MessageStore {
  if (config.databaseUrl === undefined) {
    throw new TypeError('createPostgresStore needs config.databaseUrl');
  }
  return new PostgresStore({
    connectionString: config.databaseUrl,
    schema: settings.databaseSchema,
    logger: logger.child({ component: 'postgres-store' }),
  });
}

/**
 * Creates the broker, presence, typing and rate limiter of a cluster node, sharing one pair of
 * Redis connections, except the parts given in `overrides`. `fallbackRateLimiter` decides while
 * Redis is away.
 */
export function createRedisServices(
  config: ServerConfig,
  settings: ClusterSettings,
  logger: Logger,
  overrides: Partial<RedisServices>,
  fallbackRateLimiter: () => RateLimiter,
): RedisServices {
  if (config.redisUrl === undefined) {
    throw new TypeError('createRedisServices needs config.redisUrl');
  }
  const nodeInstanceId = createNodeInstanceId(config.nodeId);
  const clusterLogger = logger.child({ component: 'cluster', instance: nodeInstanceId });
  const link = new RedisLink({
    url: config.redisUrl,
    keyPrefix: settings.redisKeyPrefix,
    nodeInstanceId,
    logger: clusterLogger.child({ part: 'redis' }),
  });
  const channels = new RoomChannels(link, clusterLogger);
  return {
    broker: overrides.broker ?? new RedisBroker(link, channels, clusterLogger.child({ part: 'broker' })),
    presence:
      overrides.presence ??
      new RedisPresence(link, clusterLogger.child({ part: 'presence' }), { leaseTtlMs: settings.presenceLeaseTtlMs }),
    typing:
      overrides.typing ??
      new RedisTyping(link, channels, clusterLogger.child({ part: 'typing' }), { timeoutMs: config.typingTimeoutMs }),
    rateLimiter:
      overrides.rateLimiter ??
      new RedisRateLimiter(link, clusterLogger.child({ part: 'rate-limiter' }), {
        ratePerSecond: config.sendRatePerSecond,
        burst: config.sendBurst,
        fallback: fallbackRateLimiter(),
      }),
  };
}
