import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { DEFAULT_LIMITS, type ServerFrame } from '@confab/protocol';

import { TestClient } from './support/test-client.js';
import { sleep, startTestServer } from './support/test-server.js';
import { signTestToken, TEST_JWT_SECRET } from './support/test-tokens.js';

const TEST_TIMEOUT_MS = 30_000;
const RATE_PER_SECOND = DEFAULT_LIMITS.sendRatePerSecond;
const BURST = DEFAULT_LIMITS.sendBurst;

interface SendOutcome {
  accepted: number;
  errors: Extract<ServerFrame, { type: 'error' }>[];
}

/** Sends `count` messages, `gapMs` apart, without waiting for replies; resolves with the outcome. */
async function sendMany(client: TestClient, count: number, gapMs: number, label: string): Promise<SendOutcome> {
  const replies: Promise<ServerFrame>[] = [];
  for (let i = 0; i < count; i++) {
    replies.push(client.request({ type: 'send', room: 'r1', clientMessageId: `${label}-${i}`, content: `${label} ${i}` }));
    if (gapMs > 0) {
      await sleep(gapMs);
    }
  }
  const settled = await Promise.all(replies);
  const errors = settled.filter((reply): reply is Extract<ServerFrame, { type: 'error' }> => reply.type === 'error');
  return { accepted: settled.filter((reply) => reply.type === 'sent').length, errors };
}

/** Sends a token bucket allows over `elapsedMs`: the burst plus the refill, plus one for rounding. */
function allowedSends(elapsedMs: number): number {
  return BURST + Math.floor((RATE_PER_SECOND * elapsedMs) / 1000) + 1;
}

async function startTokenRoom() {
  const testServer = await startTestServer({ jwtSecret: TEST_JWT_SECRET });
  const token = await signTestToken({ sub: 'u1', name: 'U1' });
  const u1 = await TestClient.withToken(testServer.server.url, token);
  const u2 = await TestClient.withToken(testServer.server.url, await signTestToken({ sub: 'u2', name: 'U2' }));
  await u1.join('r1');
  await u2.join('r1');
  return { ...testServer, token, u1, u2 };
}

describe('rate limit', { timeout: TEST_TIMEOUT_MS }, () => {
  test('100 sends in one second: rate_limited', async (t) => {
    const { stop, u1, u2 } = await startTokenRoom();
    t.after(stop);

    const startedAt = Date.now();
    const outcome = await sendMany(u1, 100, 10, 'flood');
    const elapsedMs = Date.now() - startedAt;
    await u2.waitForEvents('r1', outcome.accepted);
    await u2.settle();

    assert.ok(outcome.accepted >= BURST, `only ${outcome.accepted} sends accepted`);
    assert.ok(outcome.accepted <= allowedSends(elapsedMs), `${outcome.accepted} sends accepted in ${elapsedMs} ms`);
    assert.equal(outcome.accepted + outcome.errors.length, 100);
    for (const error of outcome.errors) {
      assert.equal(error.code, 'rate_limited');
      assert.ok(Number.isInteger(error.retryAfterMs), `retryAfterMs ${error.retryAfterMs}`);
      assert.ok((error.retryAfterMs ?? 0) > 0, `retryAfterMs ${error.retryAfterMs}`);
    }
    assert.equal(u2.eventsIn('r1').length, outcome.accepted, 'U2 receives exactly the accepted messages');
  });

  test('reconnect and second socket: limit kept', async (t) => {
    const { server, stop, token, u1, u2 } = await startTokenRoom();
    t.after(stop);

    const startedAt = Date.now();
    const flood = await sendMany(u1, BURST * 2, 0, 'flood');
    u1.close();
    await u1.waitForClose();
    const reconnected = await TestClient.withToken(server.url, token);
    const secondSocket = await TestClient.withToken(server.url, token);
    await reconnected.join('r1');
    await secondSocket.join('r1');
    const [afterReconnect, onSecondSocket] = await Promise.all([
      sendMany(reconnected, 10, 0, 'reconnected'),
      sendMany(secondSocket, 10, 0, 'second'),
    ]);
    const elapsedMs = Date.now() - startedAt;
    const accepted = flood.accepted + afterReconnect.accepted + onSecondSocket.accepted;
    await u2.waitForEvents('r1', accepted);
    await u2.settle();

    assert.equal(reconnected.userId, 'u1');
    assert.equal(secondSocket.userId, 'u1');
    assert.ok(afterReconnect.errors.length > 0, 'a reconnect must not refill the bucket');
    assert.ok(onSecondSocket.errors.length > 0, 'a second socket must not get its own bucket');
    assert.ok(accepted <= allowedSends(elapsedMs), `${accepted} sends accepted in ${elapsedMs} ms`);
    assert.equal(u2.eventsIn('r1').length, accepted);
  });

  test('after retryAfterMs: send succeeds', async (t) => {
    const { stop, u1, u2 } = await startTokenRoom();
    t.after(stop);

    const flood = await sendMany(u1, BURST + 5, 0, 'flood');
    const lastError = flood.errors.at(-1);
    assert.ok(lastError !== undefined, 'the flood was rate limited');
    assert.ok((lastError.retryAfterMs ?? 0) <= 1000 / RATE_PER_SECOND, `retryAfterMs ${lastError.retryAfterMs}`);
    await sleep(lastError.retryAfterMs ?? 0);
    const sent = await u1.sendMessage('r1', 'after the wait');
    const event = await u2.waitForType('event', (frame) => frame.event.seq === sent.seq);

    assert.equal(event.event.content, 'after the wait');
  });

  test('other users: own buckets', async (t) => {
    const { stop, u1, u2 } = await startTokenRoom();
    t.after(stop);

    const flood = await sendMany(u1, BURST * 2, 0, 'flood');
    const other = await sendMany(u2, 5, 0, 'other');

    assert.ok(flood.errors.length > 0);
    assert.equal(other.accepted, 5, 'U1 flooding does not limit U2');
  });
});
