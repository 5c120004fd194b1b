import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { RoomEvent } from '@confab/protocol';

import { clusterSkipReason } from './support/cluster-backends.js';
import { assertDelivery } from './support/delivery-checker.js';
import { TestCluster, waitUntil } from './support/test-cluster.js';

const TEST_TIMEOUT_MS = 120_000;
const FIVE_MINUTES_MS = 5 * 60 * 1000;
const ONE_DAY_MS = 24 * 60 * 60 * 1000;
const skip = await clusterSkipReason();

describe('cluster with skewed clocks', { skip, timeout: TEST_TIMEOUT_MS }, () => {
  test('seq orders the room, not clocks (C3)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const cluster = await TestCluster.start({ nodes: 2, clockOffsetsMs: [0, FIVE_MINUTES_MS] });
    try {
      const room = 'r1';
      const u1 = await cluster.client('U1', 0, [room]);
      const u2 = await cluster.client('U2', 1, [room]);

      // The skewed node reports its own clock in pong, which shows the skew is in force.
      const pong = await u2.request({ type: 'ping' });
      assert.equal(pong.type, 'pong');
      const skewMs = pong.type === 'pong' ? pong.serverTime - Date.now() : 0;
      assert.ok(skewMs > FIVE_MINUTES_MS - 60_000, `N2 runs five minutes ahead (measured ${skewMs} ms)`);

      const forged = await u1.request({
        type: 'send',
        room,
        clientMessageId: 'forged-time',
        content: 'from yesterday',
        timestamp: Date.now() - ONE_DAY_MS,
      });
      assert.equal(forged.type, 'error', 'a client timestamp is rejected');
      assert.equal(forged.type === 'error' ? forged.code : undefined, 'invalid_field');

      for (let i = 1; i <= 10; i++) {
        const sender = i % 2 === 1 ? u1 : u2;
        await sender.send(room, `message ${i}`);
      }
      await waitUntil('both to hold ten messages', () => u1.lastSeqIn(room) >= 10 && u2.lastSeqIn(room) >= 10);

      const expected = Array.from({ length: 10 }, (_, i) => `message ${i + 1}`);
      assert.deepEqual(u1.eventsIn(room).map((event) => event.content), expected);
      assert.deepEqual(u2.eventsIn(room).map((event) => event.content), expected);
      assertDelivery([u1.log, u2.log], [...u1.sends, ...u2.sends]);

      for (const client of [u1, u2]) {
        const page = await client.request({ type: 'history', room, limit: 20 });
        assert.equal(page.type, 'history');
        const events: RoomEvent[] = page.type === 'history' ? page.events : [];
        assert.deepEqual(events.map((event) => event.content), expected, `history through ${client.name}`);
        assert.deepEqual(events, client.eventsIn(room), `history matches live delivery for ${client.name}`);
      }

      // Timestamps come from one clock (the database's), so they follow seq whichever node stored
      // the message.
      const timestamps = u1.eventsIn(room).map((event) => event.timestamp);
      assert.deepEqual(timestamps, [...timestamps].sort((a, b) => a - b));
    } finally {
      await cluster.stop();
    }
  });
});
