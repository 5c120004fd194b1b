import type { Logger } from 'pino';

import type { Broker } from './broker/broker.js';
import { MemoryBroker } from './broker/memory-broker.js';
import { createPostgresStore, createRedisServices } from './cluster/create-cluster-services.js';
import type { ServerConfig } from './config.js';
import { ConfigError } from './config-validation.js';
import { MemoryPresence } from './memory-presence.js';
import { MemoryRateLimiter } from './memory-rate-limiter.js';
import { MemoryTyping } from './memory-typing.js';
import type { PresenceService } from './presence-service.js';
import type { RateLimiter } from './rate-limiter.js';
import type { MessageStore } from './store/message-store.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { TypingService } from './typing-service.js';

/** The replaceable parts of a server: the log, the broker and the shared state services. */
export interface ServerServices {
  store: MessageStore;
  broker: Broker;
  presence: PresenceService;
  typing: TypingService;
  rateLimiter: RateLimiter;
}

/**
 * Choose the implementation of each service from the configuration: SQLite and in-memory state for
 * one process; PostgreSQL when `databaseUrl` is set, and Redis-backed broker, presence, typing and
 * rate limits when `redisUrl` is set (cluster mode, see docs/cluster.md). Parts passed in
 * `overrides` are used as they are.
 */
export async function createServices(
  config: ServerConfig,
  logger: Logger,
  overrides: Partial<ServerServices> = {},
): Promise<ServerServices> {
  if (config.databaseUrl !== undefined || config.redisUrl !== undefined) {
    return createClusterServices(config, logger, overrides);
  }

  const store =
    overrides.store ??
    new SqliteStore({
      path: config.databasePath,
      synchronous: config.sqliteSynchronous,
      logger: logger.child({ component: 'sqlite-store' }),
    });
  return {
    store,
    broker: overrides.broker ?? new MemoryBroker(),
    presence: overrides.presence ?? new MemoryPresence(),
    typing: overrides.typing ?? new MemoryTyping({ timeoutMs: config.typingTimeoutMs }),
    rateLimiter:
      overrides.rateLimiter ??
      new MemoryRateLimiter({ ratePerSecond: config.sendRatePerSecond, burst: config.sendBurst }),
  };
}

async function createClusterServices(
  config: ServerConfig,
  logger: Logger,
  overrides: Partial<ServerServices>,
): Promise<ServerServices> {
  if (config.redisUrl !== undefined && config.databaseUrl === undefined && overrides.store === undefined) {
    // Each node would keep its own SQLite log and assign the same seqs to different messages.
    throw new ConfigError('redisUrl needs databaseUrl: the nodes of a cluster must share one PostgreSQL log');
  }
  const settings = {
    databaseSchema: config.databaseSchema,
    redisKeyPrefix: config.redisKeyPrefix,
    presenceLeaseTtlMs: config.presenceLeaseTtlMs,
  };

  const store = overrides.store ?? createPostgresStore(config, settings, logger);
  const memoryRateLimiter = (): RateLimiter =>
    new MemoryRateLimiter({ ratePerSecond: config.sendRatePerSecond, burst: config.sendBurst });
  if (config.redisUrl === undefined) {
    return {
      store,
      broker: overrides.broker ?? new MemoryBroker(),
      presence: overrides.presence ?? new MemoryPresence(),
      typing: overrides.typing ?? new MemoryTyping({ timeoutMs: config.typingTimeoutMs }),
      rateLimiter: overrides.rateLimiter ?? memoryRateLimiter(),
    };
  }
  return { store, ...createRedisServices(config, settings, logger, overrides, memoryRateLimiter) };
}
