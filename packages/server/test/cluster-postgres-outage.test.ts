import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { clusterSkipReason } from './support/cluster-backends.js';
import { assertDelivery } from './support/delivery-checker.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { TestCluster, waitUntil } from './support/test-cluster.js';

const TEST_TIMEOUT_MS = 150_000;
const skip = (await clusterSkipReason({ redis: true })) || PrivatePostgres.unavailableReason();

async function readiness(httpUrl: string): Promise<number> {
  const response = await fetch(`${httpUrl}/readyz`);
  await response.body?.cancel();
  return response.status;
}

describe('cluster with a PostgreSQL outage', { skip, timeout: TEST_TIMEOUT_MS }, () => {
  test('sends fail as unavailable, then recover', { timeout: TEST_TIMEOUT_MS }, async () => {
    const postgres = await PrivatePostgres.start();
    let cluster: TestCluster | undefined;
    try {
      cluster = await TestCluster.start({ nodes: 2, databaseUrl: postgres.url });
      const room = 'r1';
      const u1 = await cluster.client('U1', 0, [room]);
      const u2 = await cluster.client('U2', 1, [room]);
      await u1.send(room, 'before the outage');
      await waitUntil('U2 to get the first message', () => u2.lastSeqIn(room) >= 1);

      await postgres.stopServer();

      const reply = await u1.request({ type: 'send', room, clientMessageId: 'during-outage', content: 'during the outage' });
      assert.equal(reply.type, 'error');
      assert.equal(reply.type === 'error' ? reply.code : undefined, 'unavailable');
      for (const node of cluster.nodes) {
        assert.equal(await readiness(node.httpUrl), 503, `${node.options.nodeId} reports not ready`);
        assert.ok(node.isRunning, `${node.options.nodeId} is still running`);
      }
      assert.ok(u1.isConnected, 'U1 stays connected');
      assert.ok(u2.isConnected, 'U2 stays connected');
      const history = await u2.request({ type: 'history', room });
      assert.equal(history.type === 'error' ? history.code : history.type, 'unavailable');

      await postgres.startServer();

      // The client retries with the same clientMessageId, as an SDK does.
      await waitUntil('a retried send to be stored', async () => {
        const retry = await u1.request({ type: 'send', room, clientMessageId: 'during-outage', content: 'during the outage' });
        if (retry.type !== 'sent') {
          return false;
        }
        u1.sends.push({ room, senderId: 'U1', clientMessageId: 'during-outage', content: 'during the outage', ack: { seq: retry.seq, messageId: retry.messageId } });
        return true;
      });
      await u2.send(room, 'after the outage');
      await waitUntil('both to hold three messages', () => u1.lastSeqIn(room) >= 3 && u2.lastSeqIn(room) >= 3);

      for (const node of cluster.nodes) {
        assert.equal(await readiness(node.httpUrl), 200, `${node.options.nodeId} is ready again`);
      }
      assert.equal(u1.connections, 1);
      assert.equal(u2.connections, 1);
      assertDelivery([u1.log, u2.log], [...u1.sends, ...u2.sends]);
    } finally {
      await cluster?.stop().catch(() => {});
      await postgres.destroy();
    }
  });
});
