import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';

import type { RoomEvent } from '@confab/protocol';
import { pino } from 'pino';

import type { BrokerMessage } from '../src/broker/broker.js';
import { RedisBroker } from '../src/cluster/redis-broker.js';
import { RedisLink } from '../src/cluster/redis-link.js';
import { RedisPresence } from '../src/cluster/redis-presence.js';
import { RedisRateLimiter } from '../src/cluster/redis-rate-limiter.js';
import { RedisTyping } from '../src/cluster/redis-typing.js';
import { RoomChannels } from '../src/cluster/room-channels.js';
import { MemoryRateLimiter } from '../src/memory-rate-limiter.js';
import type { PresenceChange } from '../src/presence-service.js';
import type { TypingChange } from '../src/typing-service.js';
import { clusterSkipReason, deleteKeys, programSkipReason, TEST_REDIS_URL, uniqueKeyPrefix } from './support/cluster-backends.js';
import { PrivateRedis } from './support/private-redis.js';

const TEST_TIMEOUT_MS = 60_000;
const WAIT_MS = 10_000;
const skip = await clusterSkipReason({ redis: true });
// Tests that restart Redis start a redis-server of their own.
const restartSkip = skip || programSkipReason('redis-server', 'restart a private Redis');
const silentLogger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

/** One node's Redis services, as createRedisServices builds them. */
interface TestNode {
  link: RedisLink;
  broker: RedisBroker;
  presence: RedisPresence;
  typing: RedisTyping;
  rateLimiter: RedisRateLimiter;
  events: Array<{ room: string; message: BrokerMessage }>;
  presenceChanges: PresenceChange[];
  typingChanges: TypingChange[];
  close(): Promise<void>;
}

interface NodeOptions {
  url?: string;
  prefix: string;
  leaseTtlMs?: number;
  typingTimeoutMs?: number;
}

async function startNode(name: string, options: NodeOptions): Promise<TestNode> {
  const link = new RedisLink({
    url: options.url ?? TEST_REDIS_URL,
    keyPrefix: options.prefix,
    nodeInstanceId: `${name}~${randomUUID().slice(0, 8)}`,
    logger: silentLogger,
  });
  const channels = new RoomChannels(link, silentLogger);
  const node: TestNode = {
    link,
    broker: new RedisBroker(link, channels, silentLogger),
    presence: new RedisPresence(link, silentLogger, { leaseTtlMs: options.leaseTtlMs ?? 15_000 }),
    typing: new RedisTyping(link, channels, silentLogger, { timeoutMs: options.typingTimeoutMs ?? 5000 }),
    rateLimiter: new RedisRateLimiter(link, silentLogger, {
      ratePerSecond: 1,
      burst: 3,
      fallback: new MemoryRateLimiter({ ratePerSecond: 1, burst: 3 }),
    }),
    events: [],
    presenceChanges: [],
    typingChanges: [],
    async close() {
      await node.typing.close();
      await node.presence.close();
      await node.broker.close();
      await node.rateLimiter.close();
    },
  };
  await node.broker.start((room, message) => node.events.push({ room, message }));
  await node.presence.start((change) => node.presenceChanges.push(change));
  await node.typing.start((change) => node.typingChanges.push(change));
  return node;
}

function roomEvent(room: string, seq: number): RoomEvent {
  return {
    room,
    seq,
    id: randomUUID(),
    kind: 'message',
    sender: { id: 'u1', name: 'U1' },
    timestamp: Date.now(),
    clientMessageId: randomUUID(),
    content: `message ${seq}`,
  };
}

async function waitFor(
  description: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function seqsOf(node: TestNode, room: string): number[] {
  return node.events.filter((entry) => entry.room === room).map((entry) => entry.message.event.seq);
}

describe('RedisBroker', { skip }, () => {
  const prefix = uniqueKeyPrefix();
  after(() => deleteKeys(TEST_REDIS_URL, prefix));

  test('delivers to other nodes, not back', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await startNode('a', { prefix });
    const b = await startNode('b', { prefix });
    const room = `r-${randomUUID()}`;
    try {
      await a.broker.subscribe(room);
      await b.broker.subscribe(room);

      await a.broker.publish(room, { kind: 'event', event: roomEvent(room, 1) });
      await waitFor('b to get seq 1', () => seqsOf(b, room).length === 1);
      await b.broker.publish(room, { kind: 'event', event: roomEvent(room, 2) });
      await waitFor('a to get seq 2', () => seqsOf(a, room).length === 1);

      assert.deepEqual(seqsOf(a, room), [2]);
      assert.deepEqual(seqsOf(b, room), [1]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('unsubscribed node gets nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await startNode('a', { prefix });
    const b = await startNode('b', { prefix });
    const room = `r-${randomUUID()}`;
    try {
      await b.broker.subscribe(room);
      await b.broker.unsubscribe(room);
      await a.broker.publish(room, { kind: 'event', event: roomEvent(room, 1) });
      // A marker on another room, published after, proves the first message had its chance.
      const marker = `m-${randomUUID()}`;
      await b.broker.subscribe(marker);
      await a.broker.publish(marker, { kind: 'event', event: roomEvent(marker, 1) });
      await waitFor('b to get the marker', () => seqsOf(b, marker).length === 1);

      assert.deepEqual(seqsOf(b, room), []);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('subscribe hands over the newest event', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await startNode('a', { prefix });
    const b = await startNode('b', { prefix });
    const room = `r-${randomUUID()}`;
    try {
      await a.broker.publish(room, { kind: 'event', event: roomEvent(room, 7) });
      // Published out of order by another node: the copy keeps the highest seq.
      await a.broker.publish(room, { kind: 'event', event: roomEvent(room, 6) });

      await b.broker.subscribe(room);

      assert.deepEqual(seqsOf(b, room), [7]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('resubscribes after a Redis restart', { timeout: TEST_TIMEOUT_MS, skip: restartSkip }, async () => {
    const redis = await PrivateRedis.start();
    const a = await startNode('a', { prefix, url: redis.url });
    const b = await startNode('b', { prefix, url: redis.url });
    const room = `r-${randomUUID()}`;
    try {
      await a.broker.subscribe(room);
      await b.broker.subscribe(room);
      await a.broker.publish(room, { kind: 'event', event: roomEvent(room, 1) });
      await waitFor('b to get seq 1', () => seqsOf(b, room).length === 1);

      await redis.restart(300);
      await waitFor('both links to reconnect', () => a.link.isReady && b.link.isSubscriberReady);

      // Publish until b hears it: b's subscription comes back on its own, with no call by us.
      let seq = 2;
      while (seqsOf(b, room).length < 2) {
        await a.broker.publish(room, { kind: 'event', event: roomEvent(room, seq) });
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (seq > 100) {
          assert.fail('b never heard a publish after the restart');
        }
        seq++;
      }
      assert.equal(seqsOf(b, room)[0], 1);
      assert.ok((seqsOf(b, room)[1] ?? 0) >= 2);
    } finally {
      await a.close();
      await b.close();
      await redis.stop();
    }
  });

  test('events published while Redis is down follow it back', { timeout: TEST_TIMEOUT_MS, skip: restartSkip }, async () => {
    const redis = await PrivateRedis.start();
    const a = await startNode('a', { prefix, url: redis.url });
    const b = await startNode('b', { prefix, url: redis.url });
    const room = `r-${randomUUID()}`;
    try {
      await a.broker.subscribe(room);
      await b.broker.subscribe(room);

      await redis.kill();
      await waitFor('a to notice', () => !a.link.isReady);
      await a.broker.publish(room, { kind: 'event', event: roomEvent(room, 1) });
      await a.broker.publish(room, { kind: 'event', event: roomEvent(room, 2) });
      await redis.restart();

      // The newest held-back event arrives, and its seq makes b's subscribers read 1..2 from the store.
      await waitFor('b to get seq 2', () => seqsOf(b, room).includes(2));
      assert.deepEqual(seqsOf(b, room), [2]);
    } finally {
      await a.close();
      await b.close();
      await redis.stop();
    }
  });
});

describe('RedisPresence', { skip }, () => {
  const prefix = uniqueKeyPrefix();
  after(() => deleteKeys(TEST_REDIS_URL, prefix));

  const alice = { id: 'alice', name: 'Alice' };
  const bob = { id: 'bob', name: 'Bob' };

  test('first join and last leave reach every node', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await startNode('a', { prefix });
    const b = await startNode('b', { prefix });
    const room = `r-${randomUUID()}`;
    try {
      await a.presence.add(room, alice, 'conn-1');
      // The listener of the node that made the change has fired before add resolves.
      assert.deepEqual(a.presenceChanges, [{ room, action: 'join', user: alice }]);
      await b.presence.add(room, alice, 'conn-2');
      await b.presence.add(room, bob, 'conn-3');

      assert.deepEqual(await sortedMembers(a, room), [
        { id: 'alice', name: 'Alice', devices: 2 },
        { id: 'bob', name: 'Bob', devices: 1 },
      ]);
      assert.deepEqual(await sortedMembers(b, room), [
        { id: 'alice', name: 'Alice', devices: 2 },
        { id: 'bob', name: 'Bob', devices: 1 },
      ]);

      await a.presence.remove(room, 'alice', 'conn-1');
      await b.presence.remove(room, 'alice', 'conn-2');
      await waitFor('a to hear two joins and a leave', () => a.presenceChanges.length === 3);

      const expected: PresenceChange[] = [
        { room, action: 'join', user: alice },
        { room, action: 'join', user: bob },
        { room, action: 'leave', user: alice },
      ];
      assert.deepEqual(a.presenceChanges, expected);
      await waitFor('b to hear the same', () => b.presenceChanges.length === 3);
      assert.deepEqual(b.presenceChanges, expected);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('a dead node\'s users leave after the lease', { timeout: TEST_TIMEOUT_MS }, async () => {
    const leaseTtlMs = 600;
    const a = await startNode('a', { prefix, leaseTtlMs });
    const b = await startNode('b', { prefix, leaseTtlMs });
    const room = `r-${randomUUID()}`;
    try {
      await a.presence.add(room, alice, 'conn-1');
      await b.presence.add(room, bob, 'conn-2');
      await waitFor('b to see alice', () => b.presenceChanges.some((change) => change.user.id === 'alice'));

      const killedAt = Date.now();
      a.link.destroy();

      await waitFor('b to see alice leave', () =>
        b.presenceChanges.some((change) => change.action === 'leave' && change.user.id === 'alice'),
      );
      // Lease TTL plus one renew interval (a third of it), with room for a slow machine.
      assert.ok(Date.now() - killedAt < leaseTtlMs * 4, 'the leave came within the lease timeout');
      assert.deepEqual(await b.presence.members(room), [{ id: 'bob', name: 'Bob', devices: 1 }]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('closing a node clears its users at once', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await startNode('a', { prefix });
    const b = await startNode('b', { prefix });
    const room = `r-${randomUUID()}`;
    try {
      await a.presence.add(room, alice, 'conn-1');
      await a.close();

      await waitFor('b to see alice leave', () => b.presenceChanges.some((change) => change.action === 'leave'));
      assert.deepEqual(await b.presence.members(room), []);
    } finally {
      await b.close();
    }
  });

  test('entries made while Redis was down are restored', { timeout: TEST_TIMEOUT_MS, skip: restartSkip }, async () => {
    const redis = await PrivateRedis.start();
    const a = await startNode('a', { prefix, url: redis.url, leaseTtlMs: 900 });
    const b = await startNode('b', { prefix, url: redis.url, leaseTtlMs: 900 });
    const room = `r-${randomUUID()}`;
    try {
      await a.presence.add(room, alice, 'conn-1');
      await redis.kill();
      await waitFor('a to notice', () => !a.link.isReady);

      await a.presence.add(room, bob, 'conn-2');
      assert.deepEqual(await sortedMembers(a, room), [
        { id: 'alice', name: 'Alice', devices: 1 },
        { id: 'bob', name: 'Bob', devices: 1 },
      ], 'members answered from this node while Redis is away');

      // The restarted Redis is empty: both entries must come back from a's memory.
      await redis.restart();
      await waitFor('b to see both users', async () => (await sortedMembers(b, room)).length === 2);
      assert.deepEqual(await sortedMembers(b, room), [
        { id: 'alice', name: 'Alice', devices: 1 },
        { id: 'bob', name: 'Bob', devices: 1 },
      ]);
    } finally {
      await a.close();
      await b.close();
      await redis.stop();
    }
  });
});

describe('RedisPresence across a Redis restart', { skip }, () => {
  const prefix = uniqueKeyPrefix();
  const alice = { id: 'alice', name: 'Alice' };
  const bob = { id: 'bob', name: 'Bob' };

  test('a leave made while Redis was down is reported', { timeout: TEST_TIMEOUT_MS, skip: restartSkip }, async () => {
    const redis = await PrivateRedis.start();
    const a = await startNode('a', { prefix, url: redis.url, leaseTtlMs: 900 });
    const b = await startNode('b', { prefix, url: redis.url, leaseTtlMs: 900 });
    const room = `r-${randomUUID()}`;
    try {
      await a.presence.add(room, alice, 'conn-1');
      await b.presence.add(room, bob, 'conn-2');
      await waitFor('b to see alice', () => b.presenceChanges.some((change) => change.user.id === 'alice'));

      await redis.kill();
      await waitFor('a to notice', () => !a.link.isReady);
      // Alice leaves while no node can publish it, and the restarted Redis has no entry left to remove.
      await a.presence.remove(room, 'alice', 'conn-1');
      await redis.restart();

      await waitFor('b to see alice leave', () =>
        b.presenceChanges.some((change) => change.user.id === 'alice' && change.action === 'leave'),
      );
      await waitFor('bob to be restored', async () => (await sortedMembers(b, room)).length === 1);
      assert.deepEqual(await sortedMembers(b, room), [{ id: 'bob', name: 'Bob', devices: 1 }]);
      assert.equal(
        b.presenceChanges.filter((change) => change.user.id === 'alice' && change.action === 'leave').length,
        1,
        'one leave for alice',
      );
    } finally {
      await a.close();
      await b.close();
      await redis.stop();
    }
  });
});

describe('RedisTyping', { skip }, () => {
  const prefix = uniqueKeyPrefix();
  after(() => deleteKeys(TEST_REDIS_URL, prefix));

  const alice = { id: 'alice', name: 'Alice' };

  test('start and stop reach the other node', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await startNode('a', { prefix });
    const b = await startNode('b', { prefix });
    const room = `r-${randomUUID()}`;
    try {
      await a.broker.subscribe(room);
      await b.broker.subscribe(room);

      a.typing.setTyping(room, alice, 'conn-1', true);
      a.typing.setTyping(room, alice, 'conn-1', true);
      await waitFor('b to see alice typing', () => b.typingChanges.length === 1);
      a.typing.setTyping(room, alice, 'conn-1', false);
      await waitFor('b to see alice stop', () => b.typingChanges.length === 2);

      const expected: TypingChange[] = [
        { room, user: alice, typing: true },
        { room, user: alice, typing: false },
      ];
      assert.deepEqual(a.typingChanges, expected);
      assert.deepEqual(b.typingChanges, expected);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('typing of a dead node expires', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await startNode('a', { prefix, typingTimeoutMs: 500 });
    const b = await startNode('b', { prefix, typingTimeoutMs: 500 });
    const room = `r-${randomUUID()}`;
    try {
      await b.broker.subscribe(room);
      a.typing.setTyping(room, alice, 'conn-1', true);
      await waitFor('b to see alice typing', () => b.typingChanges.length === 1);

      a.link.destroy();

      await waitFor('b to see alice stop', () => b.typingChanges.length === 2, 5000);
      assert.deepEqual(b.typingChanges[1], { room, user: alice, typing: false });
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('RedisRateLimiter', { skip }, () => {
  const prefix = uniqueKeyPrefix();
  after(() => deleteKeys(TEST_REDIS_URL, prefix));

  test('one bucket per user across nodes', { timeout: TEST_TIMEOUT_MS }, async () => {
    const a = await startNode('a', { prefix });
    const b = await startNode('b', { prefix });
    try {
      const decisions = [
        await a.rateLimiter.take('alice'),
        await b.rateLimiter.take('alice'),
        await a.rateLimiter.take('alice'),
        await b.rateLimiter.take('alice'),
      ];

      assert.deepEqual(decisions.slice(0, 3), [{ allowed: true }, { allowed: true }, { allowed: true }]);
      const refused = decisions[3];
      assert.equal(refused?.allowed, false);
      const retryAfterMs = refused !== undefined && !refused.allowed ? refused.retryAfterMs : -1;
      assert.ok(retryAfterMs > 0, `retryAfterMs ${retryAfterMs} is positive`);
      assert.ok(retryAfterMs <= 1000, `retryAfterMs ${retryAfterMs} is at most one token's refill time`);
      assert.deepEqual(await b.rateLimiter.take('bob'), { allowed: true });
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('falls back to the node while Redis is down', { timeout: TEST_TIMEOUT_MS, skip: restartSkip }, async () => {
    const redis = await PrivateRedis.start();
    const a = await startNode('a', { prefix, url: redis.url });
    try {
      await redis.kill();
      await waitFor('a to notice', () => !a.link.isReady);

      const decisions = [];
      for (let i = 0; i < 4; i++) {
        decisions.push(await a.rateLimiter.take('alice'));
      }
      assert.deepEqual(
        decisions.map((decision) => decision.allowed),
        [true, true, true, false],
      );
    } finally {
      await a.close();
      await redis.stop();
    }
  });
});

async function sortedMembers(node: TestNode, room: string) {
  const members = await node.presence.members(room);
  return members.sort((x, y) => x.id.localeCompare(y.id));
}
