import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { clusterSkipReason, programSkipReason } from './support/cluster-backends.js';
import { assertDelivery } from './support/delivery-checker.js';
import { PrivateRedis } from './support/private-redis.js';
import type { ResumingClient } from './support/resuming-client.js';
import { highestAckedSeq, TestCluster, waitUntil } from './support/test-cluster.js';

const TEST_TIMEOUT_MS = 150_000;
const skip = (await clusterSkipReason({ postgres: true })) || programSkipReason('redis-server', 'restart a private Redis');

function contentsIn(client: ResumingClient, room: string): string[] {
  return client.eventsIn(room).map((event) => event.content);
}

/** C2: U1 sends, Redis restarts, U1 sends again; everyone gets one copy of each, on the same sockets. */
async function checkBrokerRestart(nodeCount: 1 | 2): Promise<void> {
  const redis = await PrivateRedis.start();
  const cluster = await TestCluster.start({ nodes: nodeCount, redisUrl: redis.url });
  try {
    const room = 'r1';
    const u1 = await cluster.client('U1', 0, [room]);
    const u2 = await cluster.client('U2', nodeCount - 1, [room]);
    const clients = [u1, u2];

    await u1.send(room, 'before restart');
    await waitUntil('U2 to get the first message', () => u2.lastSeqIn(room) >= 1);

    // Sent at once, while the nodes are still reconnecting to the restarted Redis.
    await redis.restart();
    await u1.send(room, 'right after restart');
    await waitUntil('U2 to get the second message', () => u2.lastSeqIn(room) >= 2);

    await u2.send(room, 'reply from U2');
    await u1.send(room, 'after recovery');
    await waitUntil('both to hold four messages', () => u1.lastSeqIn(room) >= 4 && u2.lastSeqIn(room) >= 4);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const expected = ['before restart', 'right after restart', 'reply from U2', 'after recovery'];
    assert.deepEqual(contentsIn(u1, room), expected);
    assert.deepEqual(contentsIn(u2, room), expected);
    for (const client of clients) {
      assert.equal(client.connections, 1, `${client.name} kept its first connection`);
    }
    assertDelivery(
      clients.map((client) => client.log),
      clients.flatMap((client) => client.sends),
    );
  } finally {
    await cluster.stop();
    await redis.stop();
  }
}

describe('cluster with a Redis restart', { skip, timeout: TEST_TIMEOUT_MS }, () => {
  test('two nodes: one copy each, delivery resumes (C2)', { timeout: TEST_TIMEOUT_MS }, async () => {
    await checkBrokerRestart(2);
  });

  test('single node: one copy each (C2)', { timeout: TEST_TIMEOUT_MS }, async () => {
    await checkBrokerRestart(1);
  });

  test('restart under concurrent traffic', { timeout: TEST_TIMEOUT_MS }, async () => {
    const redis = await PrivateRedis.start();
    const cluster = await TestCluster.start({ nodes: 2, redisUrl: redis.url });
    try {
      const room = 'r1';
      const clients: ResumingClient[] = [];
      for (let i = 0; i < 4; i++) {
        clients.push(await cluster.client(`u${i + 1}`, i % 2, [room]));
      }

      const traffic = Promise.all(
        clients.slice(0, 2).map(async (sender) => {
          for (let i = 1; i <= 40; i++) {
            await sender.send(room, `${sender.name} ${i}`);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }),
      );
      await waitUntil('traffic to be under way', () => highestAckedSeq(clients, room) >= 20);
      await redis.restart(500);
      await traffic;
      await waitUntil('every client to catch up', () => clients.every((client) => client.lastSeqIn(room) >= 80));

      assertDelivery(
        clients.map((client) => client.log),
        clients.flatMap((client) => client.sends),
      );
      for (const client of clients) {
        assert.equal(client.connections, 1, `${client.name} kept its first connection`);
      }
    } finally {
      await cluster.stop();
      await redis.stop();
    }
  });
});
