import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { SentFrame } from '@confab/protocol';

import { seqRange } from './support/message-traffic.js';
import { TestClient } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';

/** Time limit of each test, in milliseconds. */
const TEST_TIMEOUT_MS = 60_000;
const SENDERS = 5;
const MESSAGES_PER_SENDER = 60;
const TOTAL_MESSAGES = SENDERS * MESSAGES_PER_SENDER;
/** Rate limits high enough that no send in this file is limited. */
const UNLIMITED = { sendRatePerSecond: 100_000, sendBurst: 100_000 };

/** Sends `count` messages in bursts of 1 to 5 frames, each burst sent back to back. */
async function sendInBursts(client: TestClient, room: string, count: number, label: string): Promise<SentFrame[]> {
  const acks: SentFrame[] = [];
  let sent = 0;
  while (sent < count) {
    const burst = Math.min(count - sent, 1 + Math.floor(Math.random() * 5));
    const pending = [];
    for (let i = 0; i < burst; i++) {
      pending.push(client.sendMessage(room, `${label} ${sent}`, `${label}-${sent}`));
      sent++;
    }
    acks.push(...(await Promise.all(pending)));
  }
  return acks;
}

describe('ordering', () => {
  test('concurrent senders: one gap-free order', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(UNLIMITED);
    t.after(stop);

    const senders: TestClient[] = [];
    for (let i = 0; i < SENDERS; i++) {
      const client = await TestClient.guest(server.url, `Sender ${i}`);
      await client.join('lobby');
      senders.push(client);
    }
    const readers = [await TestClient.guest(server.url, 'Reader A'), await TestClient.guest(server.url, 'Reader B')];
    for (const reader of readers) {
      await reader.join('lobby');
    }

    const ackLists = await Promise.all(
      senders.map((client, index) => sendInBursts(client, 'lobby', MESSAGES_PER_SENDER, `s${index}`)),
    );
    const members = [...senders, ...readers];
    for (const member of members) {
      await member.waitForEvents('lobby', TOTAL_MESSAGES, 20_000);
    }
    for (const member of members) {
      await member.settle();
    }

    const acks = ackLists.flat();
    assert.deepEqual(
      acks.map((ack) => ack.seq).sort((a, b) => a - b),
      seqRange(1, TOTAL_MESSAGES),
      'acks hold every seq exactly once',
    );
    assert.ok(acks.every((ack) => !ack.duplicate), 'no ack is a duplicate');

    const reference = readers[0]!.eventsIn('lobby');
    assert.deepEqual(reference.map((event) => event.seq), seqRange(1, TOTAL_MESSAGES));
    for (const [index, member] of members.entries()) {
      const events = member.eventsIn('lobby');
      assert.deepEqual(
        events.map((event) => event.id),
        reference.map((event) => event.id),
        `member ${index} received the same sequence`,
      );
    }

    const bySeq = new Map(reference.map((event) => [event.seq, event]));
    for (const ack of acks) {
      assert.equal(bySeq.get(ack.seq)?.id, ack.messageId, `seq ${ack.seq} carries the acked message`);
    }

    // Each sender's own messages keep the order in which that sender sent them.
    for (let index = 0; index < SENDERS; index++) {
      const own = reference.filter((event) => event.clientMessageId.startsWith(`s${index}-`));
      assert.deepEqual(
        own.map((event) => event.clientMessageId),
        seqRange(0, MESSAGES_PER_SENDER - 1).map((n) => `s${index}-${n}`),
        `sender ${index} order`,
      );
    }

    const history: string[] = [];
    let before: number | undefined;
    do {
      const reply = await readers[0]!.request({ type: 'history', room: 'lobby', limit: 100, ...(before === undefined ? {} : { before }) });
      assert.equal(reply.type, 'history');
      if (reply.type !== 'history') return;
      history.unshift(...reply.events.map((event) => event.id));
      before = reply.events[0]?.seq;
      if (!reply.hasMore) break;
    } while (before !== undefined);
    assert.deepEqual(history, reference.map((event) => event.id), 'history has the live order');
  });

  test('late joiner gets gap-free tail', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(UNLIMITED);
    t.after(stop);

    const senders: TestClient[] = [];
    for (let i = 0; i < 3; i++) {
      const client = await TestClient.guest(server.url, `Sender ${i}`);
      await client.join('lobby');
      senders.push(client);
    }
    const early = await TestClient.guest(server.url, 'Early');
    await early.join('lobby');
    const late = await TestClient.guest(server.url, 'Late');

    const sending = Promise.all(senders.map((client, index) => sendInBursts(client, 'lobby', 80, `s${index}`)));
    await early.waitForEvents('lobby', 40);
    const joined = await late.join('lobby');
    await sending;
    await early.waitForEvents('lobby', 240, 20_000);
    await late.waitForEvents('lobby', 240 - joined.headSeq, 20_000);
    await late.settle();

    const lateEvents = late.eventsIn('lobby');
    assert.ok(joined.headSeq >= 40, `head ${joined.headSeq} includes the messages already seen`);
    assert.deepEqual(lateEvents.map((event) => event.seq), seqRange(joined.headSeq + 1, 240));
    assert.deepEqual(
      lateEvents.map((event) => event.id),
      early.eventsIn('lobby').slice(joined.headSeq).map((event) => event.id),
    );
  });
});
