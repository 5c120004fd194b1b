import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { pino } from 'pino';

import { parseCliOptions } from '../src/cli-options.js';
import { DEFAULT_CLUSTER_SETTINGS } from '../src/cluster/cluster-settings.js';
import { createNodeInstanceId } from '../src/cluster/create-cluster-services.js';
import { resolveConfig } from '../src/config.js';
import { ConfigError, validateConfig } from '../src/config-validation.js';
import { createServices } from '../src/services.js';
import { PostgresStore } from '../src/store/postgres-store.js';

const silentLogger = pino({ level: 'silent' });

describe('cluster settings', () => {
  test('defaults match the config defaults', () => {
    const config = resolveConfig();

    assert.equal(config.databaseSchema, DEFAULT_CLUSTER_SETTINGS.databaseSchema);
    assert.equal(config.redisKeyPrefix, DEFAULT_CLUSTER_SETTINGS.redisKeyPrefix);
    assert.equal(config.presenceLeaseTtlMs, DEFAULT_CLUSTER_SETTINGS.presenceLeaseTtlMs);
  });

  test('environment overrides each setting', () => {
    const { overrides } = parseCliOptions([], {
      CONFAB_DATABASE_SCHEMA: 'chat',
      CONFAB_REDIS_KEY_PREFIX: 'chat:',
      CONFAB_PRESENCE_LEASE_TTL_MS: '5000',
    });

    assert.deepEqual(overrides, { databaseSchema: 'chat', redisKeyPrefix: 'chat:', presenceLeaseTtlMs: 5000 });
  });

  for (const value of ['abc', '1.5', '-1']) {
    test(`lease TTL ${JSON.stringify(value)} is rejected`, () => {
      assert.throws(() => parseCliOptions([], { CONFAB_PRESENCE_LEASE_TTL_MS: value }), ConfigError);
    });
  }

  test('lease TTL below 300 ms is rejected', () => {
    assert.throws(() => validateConfig(resolveConfig({ presenceLeaseTtlMs: 100 })), /presenceLeaseTtlMs/);
  });

  test('instance ids differ per start', () => {
    const first = createNodeInstanceId('node-1');
    const second = createNodeInstanceId('node-1');

    assert.match(first, /^node-1~[0-9a-f]{8}$/);
    assert.notEqual(first, second);
  });
});

describe('createServices in cluster mode', () => {
  test('redisUrl without databaseUrl is refused', async () => {
    const config = resolveConfig({ redisUrl: 'redis://127.0.0.1:6379' });

    await assert.rejects(createServices(config, silentLogger), ConfigError);
  });

  test('databaseUrl alone picks PostgreSQL and memory state', async () => {
    const config = resolveConfig({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/test' });

    const services = await createServices(config, silentLogger);

    assert.ok(services.store instanceof PostgresStore);
    assert.equal(services.broker.constructor.name, 'MemoryBroker');
    assert.equal(services.presence.constructor.name, 'MemoryPresence');
    await services.store.close();
  });

  test('both URLs pick the Redis services', async () => {
    const config = resolveConfig({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/test', redisUrl: 'redis://127.0.0.1:6379' });

    const services = await createServices(config, silentLogger);

    assert.deepEqual(
      [services.broker, services.presence, services.typing, services.rateLimiter].map((service) => service.constructor.name),
      ['RedisBroker', 'RedisPresence', 'RedisTyping', 'RedisRateLimiter'],
    );
    // Nothing was started, so closing only releases the unused connections.
    await services.typing.close();
    await services.presence.close();
    await services.broker.close();
    await services.rateLimiter.close();
    await services.store.close();
  });
});
