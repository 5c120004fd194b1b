import assert from 'node:assert/strict';

import { TestClient } from './test-client.js';
import { startTestServer } from './test-server.js';

/**
 * Starts a server with two members, Alice and Bob, in room r1. Tests that attack the server on
 * another connection use them to check that everyone else is unaffected.
 */
export async function startBystanderRoom() {
  const testServer = await startTestServer();
  const alice = await TestClient.guest(testServer.server.url, 'Alice');
  const bob = await TestClient.guest(testServer.server.url, 'Bob');
  await alice.join('r1');
  await bob.join('r1');
  return { ...testServer, alice, bob };
}

/** Sends a message from `sender` to r1 and asserts that `receiver` gets its event. */
export async function assertDelivery(sender: TestClient, receiver: TestClient, content: string): Promise<void> {
  const sent = await sender.sendMessage('r1', content);
  const event = await receiver.waitForType('event', (frame) => frame.event.seq === sent.seq);
  assert.equal(event.event.content, content);
}
