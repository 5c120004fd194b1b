import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { RoomEvent } from '@confab/protocol';

import { seqRange } from './support/message-traffic.js';
import { TestClient } from './support/test-client.js';
import { restartTestServer, startTestServer } from './support/test-server.js';
import { signTestToken, TEST_JWT_SECRET } from './support/test-tokens.js';

/** Time limit of each test, in milliseconds. */
const TEST_TIMEOUT_MS = 60_000;
const SERVER_OPTIONS = { jwtSecret: TEST_JWT_SECRET, sendRatePerSecond: 100_000, sendBurst: 100_000 };

async function sendMany(client: TestClient, room: string, count: number, label: string): Promise<void> {
  await Promise.all(seqRange(1, count).map((n) => client.sendMessage(room, `${label} ${n}`, `${label}-${n}`)));
}

describe('resume', () => {
  test('since: missed events, then live', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const aliceToken = await signTestToken({ sub: 'alice' });
    const bob = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob' }));
    const first = await TestClient.withToken(server.url, aliceToken);
    await first.join('lobby');
    await bob.join('lobby');
    await sendMany(bob, 'lobby', 3, 'before');
    await first.waitForEvents('lobby', 3);
    first.close();
    await first.waitForClose();

    await sendMany(bob, 'lobby', 3, 'missed');
    const second = await TestClient.withToken(server.url, aliceToken);
    const joined = await second.join('lobby', { since: 3, epoch: second.welcome?.epoch });
    await second.waitForEvents('lobby', 3);
    await bob.sendMessage('lobby', 'live', 'live-1');
    await second.waitForEvents('lobby', 4);
    await second.settle();

    assert.equal(joined.resumed, true);
    assert.equal(joined.headSeq, 6);
    assert.deepEqual(second.eventsIn('lobby').map((event) => event.seq), [4, 5, 6, 7]);
    const ids = second.eventsIn('lobby').map((event) => event.clientMessageId);
    assert.deepEqual(ids.slice(0, 3).sort(), ['missed-1', 'missed-2', 'missed-3']);
    assert.equal(ids[3], 'live-1');
    const joinedIndex = second.frames.indexOf(joined);
    const firstEventIndex = second.frames.findIndex((frame) => frame.type === 'event');
    assert.ok(joinedIndex < firstEventIndex, 'joined comes before the replayed events');
  });

  test('resume under live traffic: no gap, no duplicate', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const aliceToken = await signTestToken({ sub: 'alice' });
    const bob = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob' }));
    await bob.join('lobby');
    const first = await TestClient.withToken(server.url, aliceToken);
    await first.join('lobby');
    await sendMany(bob, 'lobby', 20, 'early');
    await first.waitForEvents('lobby', 20);
    first.cut();
    await sendMany(bob, 'lobby', 150, 'missed');

    // Bob keeps sending while Alice's resume is replaying.
    let sending = true;
    let sentLive = 0;
    const liveTraffic = (async () => {
      while (sending) {
        sentLive++;
        await bob.sendMessage('lobby', `live ${sentLive}`, `live-${sentLive}`);
      }
    })();
    const second = await TestClient.withToken(server.url, aliceToken);
    const joined = await second.join('lobby', { since: 20, epoch: second.welcome?.epoch });
    await second.waitForEvents('lobby', 200, 20_000);
    sending = false;
    await liveTraffic;
    const total = 170 + sentLive;
    await second.waitForEvents('lobby', total - 20, 20_000);
    await second.settle();

    assert.equal(joined.resumed, true);
    assert.deepEqual(second.eventsIn('lobby').map((event) => event.seq), seqRange(21, total));
  });

  test('many missed events: paged replay', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const aliceToken = await signTestToken({ sub: 'alice' });
    const bob = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob' }));
    await bob.join('lobby');
    await sendMany(bob, 'lobby', 10, 'seen');
    await sendMany(bob, 'lobby', 450, 'missed');

    const alice = await TestClient.withToken(server.url, aliceToken);
    const joined = await alice.join('lobby', { since: 10, epoch: alice.welcome?.epoch });
    await alice.waitForEvents('lobby', 450, 20_000);
    await bob.sendMessage('lobby', 'live', 'live-1');
    await alice.waitForEvents('lobby', 451);
    await alice.settle();

    const events = alice.eventsIn('lobby');
    assert.equal(joined.resumed, true);
    assert.equal(joined.headSeq, 460);
    assert.deepEqual(events.map((event) => event.seq), seqRange(11, 461));
    assert.equal(events.at(-1)?.clientMessageId, 'live-1');
  });

  test('resume across server restart', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    let running = await startTestServer(SERVER_OPTIONS);
    t.after(() => running.stop());

    const aliceToken = await signTestToken({ sub: 'alice' });
    const bobToken = await signTestToken({ sub: 'bob' });
    const alice = await TestClient.withToken(running.server.url, aliceToken);
    const bob = await TestClient.withToken(running.server.url, bobToken);
    await alice.join('lobby');
    await bob.join('lobby');
    await sendMany(bob, 'lobby', 4, 'before');
    await alice.waitForEvents('lobby', 4);
    const epoch = alice.welcome?.epoch;

    running = await restartTestServer(running, SERVER_OPTIONS);
    const bobAgain = await TestClient.withToken(running.server.url, bobToken);
    await bobAgain.join('lobby');
    await sendMany(bobAgain, 'lobby', 3, 'after');
    const aliceAgain = await TestClient.withToken(running.server.url, aliceToken);
    const joined = await aliceAgain.join('lobby', { since: 4, epoch });
    await aliceAgain.waitForEvents('lobby', 3);
    await aliceAgain.settle();

    assert.equal(aliceAgain.welcome?.epoch, epoch, 'the same database keeps its epoch');
    assert.equal(joined.resumed, true);
    assert.deepEqual(aliceAgain.eventsIn('lobby').map((event) => event.seq), [5, 6, 7]);
  });

  test('resume on a new database: resumed false', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const first = await startTestServer(SERVER_OPTIONS);
    t.after(() => first.stop());
    const aliceToken = await signTestToken({ sub: 'alice' });
    const alice = await TestClient.withToken(first.server.url, aliceToken);
    await alice.join('lobby');
    await alice.sendMessage('lobby', 'old log');
    const oldEpoch = alice.welcome?.epoch;

    const second = await startTestServer(SERVER_OPTIONS);
    t.after(() => second.stop());
    const other = await TestClient.withToken(second.server.url, await signTestToken({ sub: 'bob' }));
    await other.join('lobby');
    // The new log's head is past the old cursor, so only the epoch distinguishes the two logs.
    await sendMany(other, 'lobby', 2, 'new');
    const aliceElsewhere = await TestClient.withToken(second.server.url, aliceToken);
    const joined = await aliceElsewhere.join('lobby', { since: 1, epoch: oldEpoch });
    await aliceElsewhere.settle();

    assert.notEqual(aliceElsewhere.welcome?.epoch, oldEpoch);
    assert.equal(joined.resumed, false);
    assert.equal(aliceElsewhere.eventsIn('lobby').length, 0);
  });

  test('resume from zero replays whole log', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const bob = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob' }));
    await bob.join('lobby');
    await sendMany(bob, 'lobby', 5, 'old');
    const alice = await TestClient.withToken(server.url, await signTestToken({ sub: 'alice' }));
    const joined = await alice.join('lobby', { since: 0, epoch: alice.welcome?.epoch });
    await alice.waitForEvents('lobby', 5);
    await alice.settle();

    assert.equal(joined.resumed, true);
    assert.deepEqual(alice.eventsIn('lobby').map((event) => event.seq), seqRange(1, 5));
  });

  test('wrong epoch: resumed false, no replay', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const bob = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob' }));
    await bob.join('lobby');
    await sendMany(bob, 'lobby', 5, 'old');
    const alice = await TestClient.withToken(server.url, await signTestToken({ sub: 'alice' }));
    const joined = await alice.join('lobby', { since: 2, epoch: 'an-epoch-of-another-log' });
    await bob.sendMessage('lobby', 'live', 'live-1');
    await alice.waitForEvents('lobby', 1);
    await alice.settle();

    assert.equal(joined.resumed, false);
    assert.equal(joined.headSeq, 5);
    assert.deepEqual(alice.eventsIn('lobby').map((event) => event.seq), [6]);
  });

  test('since beyond head: resumed false, no replay', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const bob = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob' }));
    await bob.join('lobby');
    await sendMany(bob, 'lobby', 5, 'old');
    const alice = await TestClient.withToken(server.url, await signTestToken({ sub: 'alice' }));
    const joined = await alice.join('lobby', { since: 50, epoch: alice.welcome?.epoch });
    await bob.sendMessage('lobby', 'live', 'live-1');
    await alice.waitForEvents('lobby', 1);
    await alice.settle();

    assert.equal(joined.resumed, false);
    assert.equal(joined.headSeq, 5);
    assert.deepEqual(alice.eventsIn('lobby').map((event) => event.seq), [6]);
  });

  test('repeated resume replays nothing twice', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const u1Token = await signTestToken({ sub: 'u1' });
    const u2 = await TestClient.withToken(server.url, await signTestToken({ sub: 'u2' }));
    const u1First = await TestClient.withToken(server.url, u1Token);
    await u1First.join('r1');
    await u2.join('r1');
    const epoch = u1First.welcome?.epoch;

    u1First.cut();
    await u2.sendMessage('r1', 'm1', 'm1');
    await u2.sendMessage('r1', 'm2', 'm2');

    const u1Connections = [u1First];
    const resumes = [];
    let lastSeq = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      const connection = await TestClient.withToken(server.url, u1Token);
      u1Connections.push(connection);
      resumes.push(await connection.join('r1', { since: lastSeq, epoch }));
      if (attempt === 0) {
        await connection.waitForEvents('r1', 2);
      }
      await connection.settle();
      lastSeq = Math.max(lastSeq, ...connection.eventsIn('r1').map((event) => event.seq));
      connection.cut();
    }

    const received: RoomEvent[] = u1Connections.flatMap((connection) => connection.eventsIn('r1'));
    assert.deepEqual(received.map((event) => event.clientMessageId), ['m1', 'm2']);
    assert.deepEqual(resumes.map((joined) => joined.resumed), [true, true, true]);
    assert.equal(u1Connections[2]?.eventsIn('r1').length, 0);
    assert.equal(u1Connections[3]?.eventsIn('r1').length, 0);
  });
});
