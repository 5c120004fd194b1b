import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { HistoryFrame } from '@confab/protocol';

import { seqRange } from './support/message-traffic.js';
import { TestClient } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';
import { signTestToken, TEST_JWT_SECRET } from './support/test-tokens.js';

/** Time limit of each test, in milliseconds. */
const TEST_TIMEOUT_MS = 30_000;
/** Rate limits high enough that no send in this file is limited. */
const UNLIMITED = { sendRatePerSecond: 100_000, sendBurst: 100_000 };

async function history(client: TestClient, room: string, query: Record<string, unknown> = {}): Promise<HistoryFrame> {
  const reply = await client.request({ type: 'history', room, ...query });
  if (reply.type !== 'history') {
    throw new Error(`history ${JSON.stringify(query)} failed: ${JSON.stringify(reply)}`);
  }
  return reply;
}

/** Sends `count` messages back to back, so that many share one store batch and one timestamp. */
async function fill(client: TestClient, room: string, count: number): Promise<void> {
  await Promise.all(seqRange(1, count).map((n) => client.sendMessage(room, `message ${n}`, `fill-${n}`)));
}

describe('history', () => {
  test('empty room: no events', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    const page = await history(client, 'lobby');

    assert.equal(page.room, 'lobby');
    assert.deepEqual(page.events, []);
    assert.equal(page.hasMore, false);
  });

  test('no cursor: newest page ascending', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(UNLIMITED);
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('lobby');
    await fill(client, 'lobby', 120);
    const page = await history(client, 'lobby');
    const small = await history(client, 'lobby', { limit: 5 });

    assert.deepEqual(page.events.map((event) => event.seq), seqRange(71, 120));
    assert.equal(page.hasMore, true);
    assert.deepEqual(small.events.map((event) => event.seq), seqRange(116, 120));
    assert.equal(page.events[0]?.content, 'message 71');
  });

  test('before cursor: older pages, hasMore', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(UNLIMITED);
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('lobby');
    await fill(client, 'lobby', 120);

    const second = await history(client, 'lobby', { before: 71 });
    const third = await history(client, 'lobby', { before: 21 });
    const exact = await history(client, 'lobby', { before: 21, limit: 20 });
    const none = await history(client, 'lobby', { before: 1 });
    const pastHead = await history(client, 'lobby', { before: 1000, limit: 10 });

    assert.deepEqual(second.events.map((event) => event.seq), seqRange(21, 70));
    assert.equal(second.hasMore, true);
    assert.deepEqual(third.events.map((event) => event.seq), seqRange(1, 20));
    assert.equal(third.hasMore, false);
    assert.equal(exact.hasMore, false);
    assert.deepEqual(none.events, []);
    assert.equal(none.hasMore, false);
    assert.deepEqual(pastHead.events.map((event) => event.seq), seqRange(111, 120));
    assert.equal(pastHead.hasMore, true);
  });

  test('after cursor: newer pages, hasMore', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(UNLIMITED);
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('lobby');
    await fill(client, 'lobby', 120);

    const first = await history(client, 'lobby', { after: 0, limit: 30 });
    const last = await history(client, 'lobby', { after: 100 });
    const exact = await history(client, 'lobby', { after: 100, limit: 20 });
    const atHead = await history(client, 'lobby', { after: 120 });
    const pastHead = await history(client, 'lobby', { after: 500 });

    assert.deepEqual(first.events.map((event) => event.seq), seqRange(1, 30));
    assert.equal(first.hasMore, true);
    assert.deepEqual(last.events.map((event) => event.seq), seqRange(101, 120));
    assert.equal(last.hasMore, false);
    assert.equal(exact.hasMore, false);
    assert.deepEqual(atHead.events, []);
    assert.equal(atHead.hasMore, false);
    assert.deepEqual(pastHead.events, []);
  });

  test('limit: default 50, clamp at 100', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(UNLIMITED);
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('lobby');
    await fill(client, 'lobby', 150);

    const defaulted = await history(client, 'lobby', { after: 0 });
    const clamped = await history(client, 'lobby', { after: 0, limit: 500 });
    const clampedNewest = await history(client, 'lobby', { limit: 1_000_000 });
    const singleEvent = await history(client, 'lobby', { before: 10, limit: 1 });

    assert.equal(client.welcome?.limits.historyDefaultLimit, 50);
    assert.equal(client.welcome?.limits.historyMaxLimit, 100);
    assert.deepEqual(defaulted.events.map((event) => event.seq), seqRange(1, 50));
    assert.deepEqual(clamped.events.map((event) => event.seq), seqRange(1, 100));
    assert.equal(clamped.hasMore, true);
    assert.deepEqual(clampedNewest.events.map((event) => event.seq), seqRange(51, 150));
    assert.deepEqual(singleEvent.events.map((event) => event.seq), [9]);
  });

  test('configured limits apply', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer({ ...UNLIMITED, historyDefaultLimit: 7, historyMaxLimit: 12 });
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('lobby');
    await fill(client, 'lobby', 30);
    const defaulted = await history(client, 'lobby');
    const clamped = await history(client, 'lobby', { limit: 100 });

    assert.equal(defaulted.events.length, 7);
    assert.equal(clamped.events.length, 12);
  });

  test('shared timestamps: paging stays exact', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(UNLIMITED);
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    await client.join('lobby');
    await fill(client, 'lobby', 300);
    const newest = await history(client, 'lobby', { limit: 100 });
    const timestamps = newest.events.map((event) => event.timestamp);
    assert.ok(new Set(timestamps).size < timestamps.length, 'precondition: several events share one timestamp');

    // Page sizes that do not divide 300, so that page edges fall inside runs of one timestamp.
    const backward: number[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await history(client, 'lobby', before === undefined ? { limit: 7 } : { before, limit: 7 });
      backward.unshift(...page.events.map((event) => event.seq));
      if (!page.hasMore) {
        break;
      }
      before = page.events[0]?.seq;
    }
    const forward: string[] = [];
    let after = 0;
    for (let pages = 0; pages < 100; pages++) {
      const page = await history(client, 'lobby', { after, limit: 13 });
      forward.push(...page.events.map((event) => event.clientMessageId));
      if (!page.hasMore) {
        break;
      }
      after = page.events.at(-1)?.seq ?? after;
    }

    assert.deepEqual(backward, seqRange(1, 300));
    assert.equal(forward.length, 300);
    assert.equal(new Set(forward).size, 300);
  });

  test('invalid cursors and limits: invalid_field', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    const cases: { query: Record<string, unknown>; field: string }[] = [
      { query: { before: 0 }, field: 'before' },
      { query: { before: -1 }, field: 'before' },
      { query: { before: 1.5 }, field: 'before' },
      { query: { before: '10' }, field: 'before' },
      { query: { before: null }, field: 'before' },
      { query: { before: 2 ** 60 }, field: 'before' },
      { query: { after: -1 }, field: 'after' },
      { query: { after: 'latest' }, field: 'after' },
      { query: { limit: 0 }, field: 'limit' },
      { query: { limit: -5 }, field: 'limit' },
      { query: { limit: 2.5 }, field: 'limit' },
      { query: { limit: '10' }, field: 'limit' },
      { query: { before: 10, after: 2 }, field: 'after' },
      { query: { cursor: 'abc' }, field: 'cursor' },
    ];
    for (const { query, field } of cases) {
      const error = await client.requestError({ type: 'history', room: 'lobby', ...query });
      assert.equal(error.code, 'invalid_field', JSON.stringify(query));
      assert.equal(error.field, field, JSON.stringify(query));
    }
  });

  test('forbidden room: forbidden', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer({ jwtSecret: TEST_JWT_SECRET });
    t.after(stop);

    const client = await TestClient.withToken(server.url, await signTestToken({ sub: 'alice', rooms: ['lobby'] }));
    const forbidden = await client.requestError({ type: 'history', room: 'secret', before: 10 });
    const forbiddenAfter = await client.requestError({ type: 'history', room: 'secret', after: 0 });
    const allowed = await client.request({ type: 'history', room: 'lobby' });

    assert.equal(forbidden.code, 'forbidden');
    assert.equal(forbiddenAfter.code, 'forbidden');
    assert.equal(allowed.type, 'history');
  });
});
