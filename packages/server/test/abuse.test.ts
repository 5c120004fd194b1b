import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { CLOSE_CODES, DEFAULT_LIMITS, type ServerFrame } from '@confab/protocol';

import { TestClient } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';
import { signTestToken, TEST_JWT_SECRET } from './support/test-tokens.js';

const TEST_TIMEOUT_MS = 60_000;
const SPAM_CYCLES = 300;
const CONNECTIONS_FROM_ONE_ADDRESS = 200;

/** Starts a server with two members in r1 whose conversation must not be disturbed. */
async function startRoom(overrides: Parameters<typeof startTestServer>[0] = {}) {
  const testServer = await startTestServer({ jwtSecret: TEST_JWT_SECRET, allowGuests: true, ...overrides });
  const alice = await TestClient.guest(testServer.server.url, 'Alice');
  const bob = await TestClient.guest(testServer.server.url, 'Bob');
  await alice.join('r1');
  await bob.join('r1');
  return { ...testServer, alice, bob };
}

/** Sends `count` messages from `sender` and checks that `receiver` gets all of them in order. */
async function assertConversation(sender: TestClient, receiver: TestClient, count: number, label: string): Promise<void> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) {
    seqs.push((await sender.sendMessage('r1', `${label} ${i}`)).seq);
  }
  for (const seq of seqs) {
    const event = await receiver.waitForType('event', (frame) => frame.event.seq === seq);
    assert.equal(event.event.sender.id, sender.userId);
  }
}

async function assertHealthy(httpUrl: string): Promise<void> {
  const response = await fetch(`${httpUrl}/healthz`);
  assert.equal(response.status, 200);
}

describe('abuse', { timeout: TEST_TIMEOUT_MS }, () => {
  test('join/leave spam: presence consistent', async (t) => {
    const { server, stop, alice, bob } = await startRoom();
    t.after(stop);
    const spammer = await TestClient.guest(server.url, 'Mallory');

    const conversation = assertConversation(alice, bob, 10, 'during the spam');
    for (let i = 0; i < SPAM_CYCLES; i++) {
      spammer.send({ type: 'join', requestId: `j${i}`, room: 'r1' });
      spammer.send({ type: 'leave', requestId: `l${i}`, room: 'r1' });
    }
    const lastLeave = await spammer.waitFor((frame) => 'requestId' in frame && frame.requestId === `l${SPAM_CYCLES - 1}`, 30_000);
    await conversation;
    await bob.settle();
    const rejoined = await bob.join('r1');
    const spammerPresence = bob.frames.filter(
      (frame: ServerFrame) => frame.type === 'presence' && frame.user.id === spammer.userId,
    );

    assert.equal(lastLeave.type, 'left');
    assert.equal(spammer.frames.filter((frame) => frame.type === 'joined').length, SPAM_CYCLES);
    assert.equal(spammer.frames.filter((frame) => frame.type === 'left').length, SPAM_CYCLES);
    assert.equal(spammerPresence.length, SPAM_CYCLES * 2, 'each join and leave was announced once');
    const lastPresence = spammerPresence.at(-1);
    assert.equal(lastPresence?.type === 'presence' ? lastPresence.action : undefined, 'leave');
    assert.deepEqual(
      rejoined.members.map((member) => member.id).sort(),
      [alice.userId, bob.userId].sort(),
      'the spammer is not left behind in the member list',
    );
    await assertHealthy(server.httpUrl);
  });

  test('repeated joins of one room: one membership', async (t) => {
    const { server, stop, alice, bob } = await startRoom();
    t.after(stop);
    const spammer = await TestClient.guest(server.url, 'Mallory');

    const replies = await Promise.all(Array.from({ length: SPAM_CYCLES }, () => spammer.request({ type: 'join', room: 'r1' })));
    await bob.settle();
    const joinsSeen = bob.frames.filter(
      (frame: ServerFrame) => frame.type === 'presence' && frame.user.id === spammer.userId && frame.action === 'join',
    );
    const rejoined = await bob.join('r1');

    assert.ok(replies.every((reply) => reply.type === 'joined'));
    assert.equal(joinsSeen.length, 1);
    assert.equal(rejoined.members.find((member) => member.id === spammer.userId)?.devices, 1);
    await assertConversation(alice, spammer, 3, 'to the spammer');
  });

  test('join spam over many rooms: room limit holds', async (t) => {
    const { server, stop, alice, bob } = await startRoom();
    t.after(stop);
    const spammer = await TestClient.guest(server.url, 'Mallory');
    const limit = DEFAULT_LIMITS.maxRoomsPerConnection;

    const replies = await Promise.all(
      Array.from({ length: limit + 50 }, (_, i) => spammer.request({ type: 'join', room: `spam-${i}` })),
    );
    const joined = replies.filter((reply) => reply.type === 'joined').length;
    const refused = replies.filter((reply) => reply.type === 'error' && reply.code === 'too_many_rooms').length;
    const left = await spammer.request({ type: 'leave', room: 'spam-0' });
    const joinedAfterLeave = await spammer.request({ type: 'join', room: 'spam-new' });

    assert.equal(joined, limit);
    assert.equal(refused, 50);
    assert.equal(left.type, 'left');
    assert.equal(joinedAfterLeave.type, 'joined', 'leaving frees a room slot');
    await assertConversation(alice, bob, 5, 'after the room spam');
    await assertHealthy(server.httpUrl);
  });

  test('many connections from one address: server stays up', async (t) => {
    const { server, stop, alice, bob } = await startRoom({ authTimeoutMs: 500 });
    t.after(stop);

    const guests = await Promise.all(
      Array.from({ length: CONNECTIONS_FROM_ONE_ADDRESS }, (_, i) => TestClient.guest(server.url, `Guest ${i}`)),
    );
    const idle = await Promise.all(Array.from({ length: 50 }, () => TestClient.connect(server.url)));
    await Promise.all(guests.slice(0, 50).map((guest) => guest.join('r1')));
    await assertConversation(alice, bob, 5, 'with a crowd');
    const idleClosed = await Promise.all(idle.map((client) => client.waitForClose()));

    assert.ok(
      idleClosed.every((closed) => closed.code === CLOSE_CODES.authTimeout),
      'connections that never authenticate are closed after the auth timeout',
    );
    await assertHealthy(server.httpUrl);
    for (const guest of guests) {
      guest.close();
    }
    await Promise.all(guests.map((guest) => guest.waitForClose()));
    await assertConversation(bob, alice, 3, 'after the crowd left');
  });

  test('connections per user: limit holds, slots come back', async (t) => {
    const maxConnectionsPerUser = 5;
    const { server, stop, alice, bob } = await startRoom({ maxConnectionsPerUser });
    t.after(stop);
    const token = await signTestToken({ sub: 'mallory', name: 'Mallory' });

    const accepted = await Promise.all(
      Array.from({ length: maxConnectionsPerUser }, () => TestClient.withToken(server.url, token)),
    );
    for (let i = 0; i < 10; i++) {
      const extra = await TestClient.connect(server.url);
      const error = await extra.requestError({ type: 'auth', token });
      const closed = await extra.waitForClose();
      assert.equal(error.code, 'too_many_connections');
      assert.equal(closed.code, CLOSE_CODES.tooManyConnections);
    }
    for (const client of accepted) {
      client.close();
    }
    await Promise.all(accepted.map((client) => client.waitForClose()));
    const again = await Promise.all(
      Array.from({ length: maxConnectionsPerUser }, () => TestClient.withToken(server.url, token)),
    );

    assert.equal(again.length, maxConnectionsPerUser, 'refused attempts did not use up slots');
    assert.ok(again.every((client) => client.userId === 'mallory'));
    await assertConversation(alice, bob, 3, 'beside the capped user');
  });
});
