import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';

import { CLOSE_CODES, type ServerFrame } from '@confab/protocol';

import { TestClient } from './support/test-client.js';
import { sleep, startTestServer } from './support/test-server.js';

const TEST_TIMEOUT_MS = 120_000;
const KIB = 1024;
const MIB = 1024 * KIB;
/** Sends per batch; the sender waits for a batch's acks before the next, as fast as the server stores. */
const BATCH_SIZE = 50;
/** Upper bound on the flood, so that a server that never drops the reader fails instead of hanging. */
const MAX_FLOOD_MS = 40_000;
/** Loose bound on process growth during the flood: the test's own readers keep every frame too. */
const MAX_RSS_GROWTH_BYTES = 100 * MIB;
/** Volume sent past a stalled reader: several times what loopback socket buffers absorbed (about 3 MB) when measured. */
const STALL_VOLUME_BYTES = 16 * MIB;

const SLOW_CONSUMER_CONFIG = {
  sendRatePerSecond: 5000,
  sendBurst: 5000,
  sendBufferSoftBytes: 64 * KIB,
  sendBufferHardBytes: 256 * KIB,
  slowConsumerGraceMs: 1000,
};

/** Returns the TCP socket under a client's WebSocket, so that a test can stop and restart reading. */
function socketOf(client: TestClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

function seqsIn(client: TestClient, room: string): number[] {
  return client.eventsIn(room).map((event) => event.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** Sends one batch of messages and resolves with the highest seq stored. */
async function sendBatch(sender: TestClient, content: string, firstIndex: number): Promise<number> {
  const acks = await Promise.all(
    range(firstIndex, firstIndex + BATCH_SIZE - 1).map((index) => sender.sendMessage('r1', content, `m-${index}`)),
  );
  return Math.max(...acks.map((ack) => ack.seq));
}

describe('slow consumer', { timeout: TEST_TIMEOUT_MS }, () => {
  test('stalled reader: dropped, then resumes without gaps', async (t) => {
    const { server, stop } = await startTestServer(SLOW_CONSUMER_CONFIG);
    t.after(stop);
    const sender = await TestClient.guest(server.url, 'U1');
    const reader = await TestClient.guest(server.url, 'U2');
    const stalled = await TestClient.guest(server.url, 'U3');
    await sender.join('r1');
    await reader.join('r1');
    await stalled.join('r1');
    await reader.waitForType('presence', (frame) => frame.action === 'join' && frame.user.id === stalled.userId);

    socketOf(stalled).pause();
    const stalledLeft = reader.waitForType(
      'presence',
      (frame) => frame.action === 'leave' && frame.user.id === stalled.userId,
      MAX_FLOOD_MS,
    );
    let dropped = false;
    void stalledLeft.then(() => {
      dropped = true;
    });
    const content = 'x'.repeat(KIB);
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    let headSeq = 0;
    let sentCount = 0;
    const floodStartedAt = Date.now();
    while (!dropped && Date.now() - floodStartedAt < MAX_FLOOD_MS) {
      headSeq = await sendBatch(sender, content, sentCount);
      sentCount += BATCH_SIZE;
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }
    assert.equal(dropped, true, `the stalled reader was still connected after ${sentCount} messages`);
    // Messages stored while the reader is gone are what its resume must fill in.
    for (let i = 0; i < 4; i++) {
      headSeq = await sendBatch(sender, content, sentCount);
      sentCount += BATCH_SIZE;
    }

    await reader.waitForEvents('r1', sentCount, 20_000);
    socketOf(stalled).resume();
    const closed = await stalled.waitForClose(10_000);
    const receivedSeqs = seqsIn(stalled, 'r1');
    const lastSeq = receivedSeqs.at(-1) ?? 0;
    t.diagnostic(`stalled reader saw close code ${closed.code} after ${receivedSeqs.length} events; ${sentCount} sent`);
    t.diagnostic(`rss grew by ${Math.round((rssPeak - rssBefore) / MIB)} MiB during the flood`);

    assert.ok(
      closed.code === CLOSE_CODES.slowConsumer || closed.code === 1006,
      `close code ${closed.code}: expected 4004, or 1006 when the close frame sat behind the queued data`,
    );
    assert.ok(rssPeak - rssBefore < MAX_RSS_GROWTH_BYTES, `rss grew by ${rssPeak - rssBefore} bytes`);
    assert.deepEqual(seqsIn(reader, 'r1'), range(1, headSeq), 'the normal reader got every message once, in order');
    assert.deepEqual(receivedSeqs, range(1, lastSeq), 'the stalled reader got a gapless prefix');
    assert.ok(lastSeq < headSeq, 'the stalled reader missed messages');

    const resumed = await TestClient.guest(server.url, 'U3 again');
    const joined = await resumed.join('r1', { since: lastSeq, epoch: stalled.welcome?.epoch });
    await resumed.waitForEvents('r1', headSeq - lastSeq, 20_000);
    await resumed.settle();

    assert.equal(joined.resumed, true);
    assert.deepEqual(seqsIn(resumed, 'r1'), range(lastSeq + 1, headSeq), 'every missed message exactly once');
  });

  test('slow reader: typing dropped, messages kept', async (t) => {
    // A grace period longer than the test, so the reader is throttled but never closed.
    const { server, stop } = await startTestServer({
      ...SLOW_CONSUMER_CONFIG,
      sendBufferHardBytes: 256 * MIB,
      slowConsumerGraceMs: 600_000,
    });
    t.after(stop);
    const sender = await TestClient.guest(server.url, 'U1');
    const typist = await TestClient.guest(server.url, 'U2');
    const slow = await TestClient.guest(server.url, 'U3');
    await sender.join('r1');
    await typist.join('r1');
    await slow.join('r1');

    socketOf(slow).pause();
    const content = 'x'.repeat(4000);
    let headSeq = 0;
    let sentCount = 0;
    let typing = false;
    while (sentCount * content.length < STALL_VOLUME_BYTES) {
      headSeq = await sendBatch(sender, content, sentCount);
      sentCount += BATCH_SIZE;
      typing = !typing;
      typist.send({ type: 'typing', room: 'r1', typing });
    }
    // Presence of a user who arrives now is dropped for the slow reader, which must get the
    // whole member list once it catches up.
    const late = await TestClient.guest(server.url, 'U4');
    await late.join('r1');
    await sender.waitForType('presence', (frame) => frame.action === 'join' && frame.user.id === late.userId);
    await sender.waitForEvents('r1', sentCount, 20_000);
    await sender.settle();

    socketOf(slow).resume();
    await slow.waitForEvents('r1', sentCount, 30_000);
    const members = await slow.waitForType('members', (frame) => frame.room === 'r1', 10_000);
    await slow.settle();
    const typingFrames = (client: TestClient) => client.frames.filter((frame: ServerFrame) => frame.type === 'typing').length;
    t.diagnostic(`typing frames: ${typingFrames(sender)} to the normal reader, ${typingFrames(slow)} to the slow one`);

    assert.deepEqual(seqsIn(slow, 'r1'), range(1, headSeq), 'every message reached the slow reader, in order');
    assert.ok(typingFrames(sender) > 0);
    assert.ok(typingFrames(slow) < typingFrames(sender), 'typing frames were dropped for the slow reader');
    assert.ok(
      members.members.some((member) => member.id === late.userId),
      'the member list sent after recovery includes the user whose join was dropped',
    );
    assert.equal(await Promise.race([slow.closed.then(() => true), sleep(0).then(() => false)]), false);
  });
});
