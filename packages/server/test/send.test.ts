import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { ServerFrame } from '@confab/protocol';

import { TestClient } from './support/test-client.js';
import { restartTestServer, startTestServer } from './support/test-server.js';
import { signTestToken, TEST_JWT_SECRET } from './support/test-tokens.js';

/** Time limit of each test, in milliseconds. */
const TEST_TIMEOUT_MS = 30_000;

/** A server where the same user can come back: tokens for named users, guests for the rest. */
const TOKEN_AND_GUEST_SERVER = { jwtSecret: TEST_JWT_SECRET, allowGuests: true };

async function historyOf(client: TestClient, room: string, extra: Record<string, unknown> = {}) {
  const reply = await client.request({ type: 'history', room, ...extra });
  if (reply.type !== 'history') {
    throw new Error(`history of ${room} failed: ${JSON.stringify(reply)}`);
  }
  return reply;
}

describe('send', () => {
  test('ack with seq, messageId, timestamp before event', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('lobby');
    const startedAt = Date.now();
    const ack = await client.sendMessage('lobby', 'hello', 'c-1');
    const finishedAt = Date.now();
    const event = await client.waitForType('event');

    assert.equal(ack.room, 'lobby');
    assert.equal(ack.seq, 1);
    assert.equal(ack.duplicate, false);
    assert.equal(typeof ack.messageId, 'string');
    assert.ok(ack.timestamp >= startedAt, `timestamp ${ack.timestamp} is not before the send`);
    assert.ok(ack.timestamp <= finishedAt, `timestamp ${ack.timestamp} is not after the ack`);
    assert.equal(event.event.id, ack.messageId);
    assert.equal(event.event.seq, ack.seq);
    assert.equal(event.event.timestamp, ack.timestamp);
    assert.equal(event.event.clientMessageId, 'c-1');
    assert.equal(event.event.kind, 'message');
    assert.equal(event.event.content, 'hello');
    assert.ok(
      client.frames.indexOf(ack) < client.frames.indexOf(event),
      'the sent ack arrives before the event on the sender connection',
    );
  });

  test('event reaches every member and sender tabs', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(TOKEN_AND_GUEST_SERVER);
    t.after(stop);

    const token = await signTestToken({ sub: 'alice', name: 'Alice' });
    const tabA = await TestClient.withToken(server.url, token);
    const tabB = await TestClient.withToken(server.url, token);
    const bob = await TestClient.guest(server.url, 'Bob');
    const outsider = await TestClient.guest(server.url, 'Olga');
    for (const client of [tabA, tabB, bob]) {
      await client.join('lobby');
    }
    await outsider.join('elsewhere');

    const ack = await tabA.sendMessage('lobby', 'to everyone');
    for (const client of [tabA, tabB, bob]) {
      await client.waitForEvents('lobby', 1);
    }
    for (const client of [tabA, tabB, bob, outsider]) {
      await client.settle();
    }

    for (const [name, client] of [['tab A', tabA], ['tab B', tabB], ['bob', bob]] as const) {
      const events = client.eventsIn('lobby');
      assert.equal(events.length, 1, `${name} gets one copy`);
      assert.equal(events[0]?.id, ack.messageId, `${name} gets the acked message`);
      assert.deepEqual(events[0]?.sender, { id: 'alice', name: 'Alice' }, `${name} sees the session user`);
    }
    assert.equal(outsider.frames.filter((frame) => frame.type === 'event').length, 0);
  });

  test('seq per room: 1, 2, 3, independent', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('red');
    await client.join('blue');
    const redAcks = [];
    const blueAcks = [];
    for (let i = 0; i < 5; i++) {
      redAcks.push((await client.sendMessage('red', `red ${i}`)).seq);
      if (i < 3) {
        blueAcks.push((await client.sendMessage('blue', `blue ${i}`)).seq);
      }
    }
    await client.waitForEvents('red', 5);
    await client.waitForEvents('blue', 3);

    assert.deepEqual(redAcks, [1, 2, 3, 4, 5]);
    assert.deepEqual(blueAcks, [1, 2, 3]);
    assert.deepEqual(client.eventsIn('red').map((event) => event.seq), [1, 2, 3, 4, 5]);
    assert.deepEqual(client.eventsIn('blue').map((event) => event.seq), [1, 2, 3]);
  });

  test('dedupe: repeat returns original ack', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const sender = await TestClient.guest(server.url, 'Ada');
    const member = await TestClient.guest(server.url, 'Bob');
    await sender.join('lobby');
    await member.join('lobby');

    const first = await sender.sendMessage('lobby', 'original', 'same-id');
    await member.waitForEvents('lobby', 1);
    const repeat = await sender.sendMessage('lobby', 'changed text', 'same-id');
    await member.settle();
    await sender.settle();
    const history = await historyOf(member, 'lobby');

    assert.equal(first.duplicate, false);
    assert.equal(repeat.duplicate, true);
    assert.equal(repeat.seq, first.seq);
    assert.equal(repeat.messageId, first.messageId);
    assert.equal(repeat.timestamp, first.timestamp);
    assert.equal(member.eventsIn('lobby').length, 1);
    assert.equal(sender.eventsIn('lobby').length, 1);
    assert.deepEqual(history.events.map((event) => event.content), ['original']);
  });

  test('dedupe: concurrent repeats store one event', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const sender = await TestClient.guest(server.url, 'Ada');
    const member = await TestClient.guest(server.url, 'Bob');
    await sender.join('lobby');
    await member.join('lobby');

    // Sent back to back, the three frames reach the store in one batch.
    const acks = await Promise.all([
      sender.sendMessage('lobby', 'first', 'burst-id'),
      sender.sendMessage('lobby', 'second', 'burst-id'),
      sender.sendMessage('lobby', 'third', 'burst-id'),
    ]);
    await member.waitForEvents('lobby', 1);
    await member.settle();

    assert.deepEqual(acks.map((ack) => ack.duplicate).sort(), [false, true, true]);
    assert.equal(new Set(acks.map((ack) => ack.messageId)).size, 1);
    assert.deepEqual(acks.map((ack) => ack.seq), [1, 1, 1]);
    assert.equal(member.eventsIn('lobby').length, 1);
  });

  test('dedupe key: per user and per room', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const ada = await TestClient.guest(server.url, 'Ada');
    const bob = await TestClient.guest(server.url, 'Bob');
    for (const client of [ada, bob]) {
      await client.join('red');
      await client.join('blue');
    }

    const adaRed = await ada.sendMessage('red', 'ada red', 'shared-id');
    const bobRed = await bob.sendMessage('red', 'bob red', 'shared-id');
    const adaBlue = await ada.sendMessage('blue', 'ada blue', 'shared-id');

    assert.equal(bobRed.duplicate, false);
    assert.equal(adaBlue.duplicate, false);
    assert.notEqual(bobRed.messageId, adaRed.messageId);
    assert.equal(bobRed.seq, 2);
    assert.equal(adaBlue.seq, 1);
  });

  test('dedupe survives server restart', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    let running = await startTestServer(TOKEN_AND_GUEST_SERVER);
    t.after(() => running.stop());

    const token = await signTestToken({ sub: 'alice', name: 'Alice' });
    const before = await TestClient.withToken(running.server.url, token);
    await before.join('lobby');
    const first = await before.sendMessage('lobby', 'before restart', 'restart-id');

    running = await restartTestServer(running, TOKEN_AND_GUEST_SERVER);
    const after = await TestClient.withToken(running.server.url, token);
    const member = await TestClient.guest(running.server.url, 'Bob');
    await after.join('lobby');
    await member.join('lobby');
    const repeat = await after.sendMessage('lobby', 'before restart', 'restart-id');
    await member.settle();
    const next = await after.sendMessage('lobby', 'after restart', 'next-id');
    await member.waitForEvents('lobby', 1);
    await member.settle();

    assert.equal(repeat.duplicate, true);
    assert.equal(repeat.seq, first.seq);
    assert.equal(repeat.messageId, first.messageId);
    assert.equal(next.seq, 2);
    assert.deepEqual(member.eventsIn('lobby').map((event) => event.clientMessageId), ['next-id']);
  });

  test('content length counted in code points', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('lobby');
    const max = client.welcome?.limits.maxContentCodePoints ?? 0;
    assert.equal(max, 4000);

    // Each emoji is one code point but two UTF-16 code units.
    const atLimit = '😀'.repeat(max);
    const ack = await client.sendMessage('lobby', atLimit, 'at-limit');
    const event = await client.waitForType('event');
    assert.equal(ack.seq, 1);
    assert.equal(event.event.content, atLimit);

    for (const [name, content] of [
      ['emoji', '😀'.repeat(max + 1)],
      ['ascii', 'a'.repeat(max + 1)],
      ['mixed', `${'a'.repeat(max)}😀`],
    ] as const) {
      const error = await client.requestError({ type: 'send', room: 'lobby', clientMessageId: `over-${name}`, content });
      assert.equal(error.code, 'too_large', name);
      assert.equal(error.field, 'content', name);
    }

    const history = await historyOf(client, 'lobby');
    assert.deepEqual(history.events.map((stored) => stored.clientMessageId), ['at-limit']);
  });

  test('blank content: invalid_field', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('lobby');
    const contents: unknown[] = ['', ' ', '\n\t  ', '\u3000', 42, null, { text: 'hi' }];
    for (const [index, content] of contents.entries()) {
      const error = await client.requestError({ type: 'send', room: 'lobby', clientMessageId: `blank-${index}`, content });
      assert.equal(error.code, 'invalid_field', `content ${JSON.stringify(content)}`);
      assert.equal(error.field, 'content', `content ${JSON.stringify(content)}`);
    }
    const missing = await client.requestError({ type: 'send', room: 'lobby', clientMessageId: 'no-content' });
    assert.equal(missing.code, 'invalid_field');

    const history = await historyOf(client, 'lobby');
    assert.equal(history.events.length, 0);
  });

  test('lone surrogate stored as U+FFFD', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const sender = await TestClient.guest(server.url, 'Ada');
    const member = await TestClient.guest(server.url, 'Bob');
    await sender.join('lobby');
    await member.join('lobby');
    const rawFrames: Buffer[] = [];
    member.ws.on('message', (data) => rawFrames.push(data as Buffer));

    // The JSON escapes stand for a lone high surrogate and a lone low surrogate.
    sender.sendRaw(String.raw`{"type":"send","requestId":"lone-1","room":"lobby","clientMessageId":"lone-1","content":"a\ud83db"}`);
    sender.sendRaw(String.raw`{"type":"send","requestId":"lone-2","room":"lobby","clientMessageId":"lone-2","content":"\udc00z"}`);
    const firstAck = await sender.waitFor((frame) => 'requestId' in frame && frame.requestId === 'lone-1');
    const secondAck = await sender.waitFor((frame) => 'requestId' in frame && frame.requestId === 'lone-2');
    await member.waitForEvents('lobby', 2);
    const history = await historyOf(member, 'lobby');

    assert.equal(firstAck.type, 'sent');
    assert.equal(secondAck.type, 'sent');
    assert.deepEqual(member.eventsIn('lobby').map((event) => event.content), ['a\uFFFDb', '\uFFFDz']);
    assert.deepEqual(history.events.map((event) => event.content), ['a\uFFFDb', '\uFFFDz']);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    for (const raw of rawFrames) {
      const text = decoder.decode(raw);
      assert.doesNotMatch(text, /\\ud[89a-f][0-9a-f]{2}/i, 'no escaped surrogate leaves the server');
    }
  });

  test('client timestamp: invalid_field', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('lobby');
    const yesterday = Date.now() - 24 * 60 * 60 * 1000;
    const forged: Record<string, unknown>[] = [
      { timestamp: yesterday },
      { seq: 1 },
      { id: 'my-own-id' },
    ];
    for (const [index, extra] of forged.entries()) {
      const error = await client.requestError({
        type: 'send',
        room: 'lobby',
        clientMessageId: `forged-${index}`,
        content: 'from yesterday',
        ...extra,
      });
      const field = Object.keys(extra)[0];
      assert.equal(error.code, 'invalid_field', `field ${field}`);
      assert.equal(error.field, field, `field ${field}`);
    }

    const startedAt = Date.now();
    const ack = await client.sendMessage('lobby', 'today', 'honest');
    const history = await historyOf(client, 'lobby');

    assert.ok(ack.timestamp >= startedAt, `timestamp ${ack.timestamp} is not before the send`);
    assert.deepEqual(history.events.map((event) => event.clientMessageId), ['honest']);
    assert.equal(history.events[0]?.seq, 1);
  });

  test('sent frame is the only reply', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('lobby');
    await client.sendMessage('lobby', 'hello', 'only-reply');
    await client.waitForEvents('lobby', 1);
    await client.settle();

    const replies = client.frames.filter(
      (frame: ServerFrame) => frame.type === 'sent' || frame.type === 'error',
    );
    assert.equal(replies.length, 1);
  });
});
