import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { ServerFrame, TypingFrame } from '@confab/protocol';

import { TestClient } from './support/test-client.js';
import { sleep, startTestServer } from './support/test-server.js';
import { signTestToken, TEST_JWT_SECRET } from './support/test-tokens.js';

/** Time limit of each test, in milliseconds. */
const TEST_TIMEOUT_MS = 20_000;
/**
 * A typing timeout far longer than any wait in these tests, so a stop that arrives can only have
 * come from the event under test, not from expiry.
 */
const LONG_TYPING_TIMEOUT_MS = 60_000;
const SHORT_TYPING_TIMEOUT_MS = 300;
/** Slack for timer rounding when checking that an expiry did not come early. */
const TIMER_SLACK_MS = 50;

function typingIn(client: TestClient, room: string): TypingFrame[] {
  return client.frames.filter(
    (frame: ServerFrame): frame is TypingFrame => frame.type === 'typing' && frame.room === room,
  );
}

/** Alice and Bob in `lobby` on a server with the given typing timeout. */
async function setUp(t: { after: (fn: () => Promise<void>) => void }, typingTimeoutMs: number) {
  const running = await startTestServer({ jwtSecret: TEST_JWT_SECRET, typingTimeoutMs });
  t.after(running.stop);
  const alice = await TestClient.withToken(running.server.url, await signTestToken({ sub: 'alice', name: 'Alice' }));
  const bob = await TestClient.withToken(running.server.url, await signTestToken({ sub: 'bob', name: 'Bob' }));
  await alice.join('lobby');
  await bob.join('lobby');
  return { ...running, alice, bob };
}

describe('typing', () => {
  test('start: seen by others, not own tabs', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, alice, bob } = await setUp(t, LONG_TYPING_TIMEOUT_MS);
    const aliceOtherTab = await TestClient.withToken(server.url, await signTestToken({ sub: 'alice', name: 'Alice' }));
    await aliceOtherTab.join('lobby');

    alice.send({ type: 'typing', room: 'lobby', typing: true });
    const start = await bob.waitForType('typing');
    await alice.settle();
    await aliceOtherTab.settle();

    assert.deepEqual(start, { type: 'typing', room: 'lobby', user: { id: 'alice', name: 'Alice' }, typing: true });
    assert.equal(typingIn(alice, 'lobby').length, 0);
    assert.equal(typingIn(aliceOtherTab, 'lobby').length, 0);
  });

  test('explicit stop: stop event', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { alice, bob } = await setUp(t, LONG_TYPING_TIMEOUT_MS);

    alice.send({ type: 'typing', room: 'lobby', typing: true });
    await bob.waitForType('typing', (frame) => frame.typing);
    alice.send({ type: 'typing', room: 'lobby', typing: false });
    const stop = await bob.waitForType('typing', (frame) => !frame.typing);

    assert.deepEqual(stop.user, { id: 'alice', name: 'Alice' });
  });

  test('TCP cut: stop once noticed', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { alice, bob } = await setUp(t, LONG_TYPING_TIMEOUT_MS);

    alice.send({ type: 'typing', room: 'lobby', typing: true });
    await bob.waitForType('typing', (frame) => frame.typing);
    alice.cut();
    const stop = await bob.waitForType('typing', (frame) => !frame.typing);

    assert.equal(stop.user.id, 'alice');
  });

  test('TCP cut of typing tab: stop, other tab open', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, alice, bob } = await setUp(t, LONG_TYPING_TIMEOUT_MS);
    const aliceOtherTab = await TestClient.withToken(server.url, await signTestToken({ sub: 'alice', name: 'Alice' }));
    await aliceOtherTab.join('lobby');

    alice.send({ type: 'typing', room: 'lobby', typing: true });
    await bob.waitForType('typing', (frame) => frame.typing);
    alice.cut();
    const stop = await bob.waitForType('typing', (frame) => !frame.typing);

    assert.equal(stop.user.id, 'alice');
  });

  test('no stop: expires after typingTimeoutMs', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { alice, bob } = await setUp(t, SHORT_TYPING_TIMEOUT_MS);

    alice.send({ type: 'typing', room: 'lobby', typing: true });
    await bob.waitForType('typing', (frame) => frame.typing);
    const startSeenAt = Date.now();
    const stop = await bob.waitForType('typing', (frame) => !frame.typing);
    const elapsedMs = Date.now() - startSeenAt;

    assert.equal(stop.user.id, 'alice');
    assert.ok(elapsedMs >= SHORT_TYPING_TIMEOUT_MS - TIMER_SLACK_MS, `expired after ${elapsedMs} ms, not before the timeout`);
  });

  test('send: stop before message event', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { alice, bob } = await setUp(t, LONG_TYPING_TIMEOUT_MS);

    alice.send({ type: 'typing', room: 'lobby', typing: true });
    await bob.waitForType('typing', (frame) => frame.typing);
    await alice.sendMessage('lobby', 'done typing');
    const event = await bob.waitForType('event');
    const stopIndex = bob.frames.findIndex((frame) => frame.type === 'typing' && !frame.typing);

    assert.ok(stopIndex >= 0, 'a stop arrived');
    assert.ok(stopIndex < bob.frames.indexOf(event), 'the stop arrived before the message event');
  });

  test('renewal: stays on, one start', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const typingTimeoutMs = 600;
    const { alice, bob } = await setUp(t, typingTimeoutMs);

    alice.send({ type: 'typing', room: 'lobby', typing: true });
    await bob.waitForType('typing', (frame) => frame.typing);
    // Renew at a quarter of the timeout for two timeouts' time.
    for (let i = 0; i < 8; i++) {
      await sleep(typingTimeoutMs / 4);
      alice.send({ type: 'typing', room: 'lobby', typing: true });
    }
    const whileRenewing = typingIn(bob, 'lobby').map((frame) => frame.typing);
    const stop = await bob.waitForType('typing', (frame) => !frame.typing);
    await bob.settle();

    assert.deepEqual(whileRenewing, [true]);
    assert.equal(stop.user.id, 'alice');
    assert.deepEqual(typingIn(bob, 'lobby').map((frame) => frame.typing), [true, false]);
  });

  test('leave: stop event', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { alice, bob } = await setUp(t, LONG_TYPING_TIMEOUT_MS);

    alice.send({ type: 'typing', room: 'lobby', typing: true });
    await bob.waitForType('typing', (frame) => frame.typing);
    await alice.request({ type: 'leave', room: 'lobby' });
    const stop = await bob.waitForType('typing', (frame) => !frame.typing);

    assert.equal(stop.user.id, 'alice');
  });

  test('stop without start: no event', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { alice, bob } = await setUp(t, LONG_TYPING_TIMEOUT_MS);

    alice.send({ type: 'typing', room: 'lobby', typing: false });
    const pong = await alice.request({ type: 'ping' });
    await bob.settle();

    assert.equal(pong.type, 'pong');
    assert.equal(typingIn(bob, 'lobby').length, 0);
  });
});
