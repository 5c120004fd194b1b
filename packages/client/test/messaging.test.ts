import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { StoreUnavailableError } from '@confab/server';

import { ConfabError, type PendingMessage, type Room, type RoomEvent } from '../src/index.js';
import { assertContiguous, contents, createClient, delay, signToken, TestServer, waitFor } from './support/harness.js';
import { TcpProxy } from './support/tcp-proxy.js';

const SECRET = 'messaging-test-secret-that-is-long-enough';

function pendingOf(room: Room): readonly PendingMessage[] {
  return room.pending;
}
const TYPING_TIMEOUT_MS = 400;

describe('Room messaging', () => {
  let server: TestServer;

  before(async () => {
    server = await TestServer.start({
      sendRatePerSecond: 1000,
      sendBurst: 1000,
      typingTimeoutMs: TYPING_TIMEOUT_MS,
    });
  });

  after(async () => {
    await server.close();
  });

  test('two clients see the same order', async () => {
    const alice = createClient(server.url, { guestName: 'alice' });
    const bob = createClient(server.url, { guestName: 'bob' });
    alice.connect();
    bob.connect();
    const aliceRoom = alice.room('order');
    const bobRoom = bob.room('order');
    const bobEvents: RoomEvent[] = [];
    bobRoom.on('message', (event) => bobEvents.push(event));
    try {
      await waitFor('both joined', () => aliceRoom.status === 'joined' && bobRoom.status === 'joined');

      const sends = [];
      for (let index = 0; index < 10; index++) {
        sends.push(aliceRoom.send(`a${index}`), bobRoom.send(`b${index}`));
      }
      const acks = await Promise.all(sends);
      assert.equal(new Set(acks.map((ack) => ack.seq)).size, 20, 'every ack has its own seq');
      assert.ok(acks.every((ack) => ack.duplicate === false));

      await waitFor('all delivered', () => aliceRoom.messages.length === 20 && bobRoom.messages.length === 20);
      assert.deepEqual(contents(aliceRoom), contents(bobRoom));
      assert.deepEqual(
        aliceRoom.messages.map((event) => event.seq),
        Array.from({ length: 20 }, (_, index) => index + 1),
      );
      assert.deepEqual(
        contents(aliceRoom).filter((content) => content.startsWith('a')),
        Array.from({ length: 10 }, (_, index) => `a${index}`),
        "alice's messages keep her send order",
      );
      assert.deepEqual(
        bobEvents.map((event) => event.seq),
        bobRoom.messages.map((event) => event.seq),
      );
      assert.deepEqual(aliceRoom.pending, [], 'pending is empty once delivered');
    } finally {
      alice.close();
      bob.close();
    }
  });

  test('join loads latest page, then older', async () => {
    const writer = createClient(server.url, { guestName: 'writer' });
    writer.connect();
    const writerRoom = writer.room('history');
    const sends = Array.from({ length: 70 }, (_, index) => writerRoom.send(`m${index + 1}`));
    await Promise.all(sends);
    writer.close();

    const reader = createClient(server.url, { guestName: 'reader', initialHistoryLimit: 30 });
    reader.connect();
    const room = reader.room('history');
    try {
      await waitFor('latest page', () => room.messages.length === 30);
      assert.equal(room.messages[0]?.content, 'm41');
      assert.equal(room.messages.at(-1)?.content, 'm70');
      assert.equal(room.hasMoreHistory, true);

      const [first, concurrent] = await Promise.all([room.loadOlder(30), room.loadOlder(30)]);
      assert.equal(first, 30);
      assert.equal(concurrent, 30, 'concurrent calls share one request');
      assert.equal(room.messages[0]?.content, 'm11');
      assert.equal(await room.loadOlder(), 10);
      assert.equal(room.hasMoreHistory, false);
      assert.equal(await room.loadOlder(), 0);
      assert.deepEqual(
        contents(room),
        Array.from({ length: 70 }, (_, index) => `m${index + 1}`),
      );
      assertContiguous(room);
    } finally {
      reader.close();
    }
  });

  test('presence follows joins and leaves', async () => {
    const alice = createClient(server.url, { guestName: 'alice' });
    const bob = createClient(server.url, { guestName: 'bob' });
    alice.connect();
    bob.connect();
    const aliceRoom = alice.room('presence');
    const presence: string[] = [];
    aliceRoom.on('presence', ({ action, user }) => presence.push(`${action}:${user.name}`));
    try {
      await waitFor('alice joined', () => aliceRoom.status === 'joined');
      assert.deepEqual(
        aliceRoom.members.map((member) => member.name),
        ['alice'],
      );

      const bobRoom = bob.room('presence');
      await waitFor('bob listed', () => aliceRoom.members.length === 2);
      assert.deepEqual(
        aliceRoom.members.map((member) => member.name).sort(),
        ['alice', 'bob'],
      );

      bobRoom.leave();
      await waitFor('bob gone', () => aliceRoom.members.length === 1);
      assert.deepEqual(presence, ['join:bob', 'leave:bob']);
    } finally {
      alice.close();
      bob.close();
    }
  });

  test('typing shows, stops and expires', async () => {
    const proxy = await TcpProxy.start(server.port);
    const alice = createClient(server.url, { guestName: 'alice', typingLeewayMs: 100 });
    const bob = createClient(proxy.url, { guestName: 'bob', typingLeewayMs: 100 });
    alice.connect();
    bob.connect();
    const aliceRoom = alice.room('typing');
    const bobRoom = bob.room('typing');
    try {
      await waitFor('both joined', () => aliceRoom.status === 'joined' && bobRoom.status === 'joined');

      aliceRoom.setTyping(true);
      await waitFor('bob sees alice typing', () => bobRoom.typingUsers.length === 1);
      assert.equal(bobRoom.typingUsers[0]?.name, 'alice');
      assert.deepEqual(aliceRoom.typingUsers, [], 'own typing is not listed');

      aliceRoom.setTyping(false);
      await waitFor('stop reaches bob', () => bobRoom.typingUsers.length === 0);

      aliceRoom.setTyping(true);
      await waitFor('bob sees alice typing again', () => bobRoom.typingUsers.length === 1);
      await aliceRoom.send('done typing');
      await waitFor('sending ends typing', () => bobRoom.typingUsers.length === 0);

      // With every stop lost on the way, the start still expires locally.
      proxy.inspectServerFrames = (text) => (text.includes('"typing":false') ? 'drop' : 'pass');
      aliceRoom.setTyping(true);
      await waitFor('bob sees alice typing a third time', () => bobRoom.typingUsers.length === 1);
      const startedAt = Date.now();
      await waitFor('start expired without a stop', () => bobRoom.typingUsers.length === 0, 5000);
      assert.ok(Date.now() - startedAt >= TYPING_TIMEOUT_MS, 'not before the server timeout');
    } finally {
      alice.close();
      bob.close();
      await proxy.close();
    }
  });

  test('typing keystrokes are throttled', async () => {
    const proxy = await TcpProxy.start(server.port);
    const alice = createClient(server.url, { guestName: 'alice', typingRenewIntervalMs: 10_000, typingIdleMs: 300 });
    const bob = createClient(proxy.url, { guestName: 'bob' });
    const typingFrames: boolean[] = [];
    proxy.inspectServerFrames = (text) => {
      const frame = JSON.parse(text) as { type: string; typing?: boolean };
      if (frame.type === 'typing' && frame.typing !== undefined) {
        typingFrames.push(frame.typing);
      }
      return 'pass';
    };
    alice.connect();
    bob.connect();
    const aliceRoom = alice.room('throttle');
    const bobRoom = bob.room('throttle');
    try {
      await waitFor('both joined', () => aliceRoom.status === 'joined' && bobRoom.status === 'joined');
      for (let keystroke = 0; keystroke < 20; keystroke++) {
        aliceRoom.setTyping(true);
        await delay(5);
      }
      await waitFor('idle stop arrives', () => typingFrames.length === 2);
      assert.deepEqual(typingFrames, [true, false]);
    } finally {
      alice.close();
      bob.close();
      await proxy.close();
    }
  });

  test('invalid content rejected before sending', async () => {
    const client = createClient(server.url);
    client.connect();
    const room = client.room('validation');
    try {
      await waitFor('joined', () => room.status === 'joined');
      const limit = client.limits.maxContentCodePoints;

      // Astral characters are two UTF-16 units but one code point each.
      await room.send('😀'.repeat(limit));
      await assert.rejects(room.send('😀'.repeat(limit + 1)), (error: unknown) => {
        assert.ok(error instanceof ConfabError);
        assert.equal(error.code, 'too_large');
        assert.match(error.message, new RegExp(`${limit + 1} code points long, over the server's limit of ${limit}`));
        return true;
      });
      await assert.rejects(room.send('   '), { code: 'invalid_field' });
      await assert.rejects(room.send(42 as unknown as string), { code: 'invalid_field' });
      assert.deepEqual(room.pending, [], 'rejected content is never queued');
      await waitFor('the valid one delivered', () => room.messages.length === 1);
    } finally {
      client.close();
    }
  });

  test('rate limited sends retried in order', async () => {
    const limited = await TestServer.start({ sendRatePerSecond: 5, sendBurst: 2 });
    const client = createClient(limited.url);
    client.connect();
    const room = client.room('limited');
    try {
      const acks = await Promise.all(Array.from({ length: 6 }, (_, index) => room.send(`r${index}`)));
      assert.deepEqual(
        acks.map((ack) => ack.seq),
        [1, 2, 3, 4, 5, 6],
      );
      await waitFor('all delivered', () => room.messages.length === 6);
      assert.deepEqual(contents(room), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    } finally {
      client.close();
      await limited.close();
    }
  });

  test('unavailable store retried with backoff', async () => {
    const flaky = await TestServer.start();
    // The first two appends fail as a store outage would; later ones reach the real store.
    const store = flaky.server.services.store;
    const append = store.append.bind(store);
    let failures = 0;
    store.append = (request) => {
      if (failures < 2) {
        failures++;
        return Promise.reject(new StoreUnavailableError('store offline for the test'));
      }
      return append(request);
    };
    const client = createClient(flaky.url, { sendRetry: { initialDelayMs: 20, maxDelayMs: 100 } });
    client.connect();
    const room = client.room('flaky');
    try {
      const acks = await Promise.all([room.send('first'), room.send('second')]);
      assert.equal(failures, 2);
      assert.deepEqual(
        acks.map((ack) => ack.seq),
        [1, 2],
      );
      await waitFor('delivered', () => room.messages.length === 2);
      assert.deepEqual(contents(room), ['first', 'second']);
    } finally {
      client.close();
      await flaky.close();
    }
  });

  test('forbidden room fails join and sends', async () => {
    const secured = await TestServer.start({ jwtSecret: SECRET, allowGuests: false });
    const client = createClient(secured.url, {
      guestName: undefined,
      token: signToken(SECRET, { sub: 'user-9', rooms: ['lobby'] }),
    });
    client.connect();
    const secret = client.room('secret');
    const lobby = client.room('lobby');
    const roomErrors: string[] = [];
    secret.on('error', (error) => roomErrors.push(error.code));
    const queued = secret.send('queued before the join failed');
    try {
      await assert.rejects(queued, { code: 'forbidden' });
      assert.equal(secret.status, 'failed');
      assert.deepEqual(roomErrors, ['forbidden']);
      assert.equal(secret.pending[0]?.status, 'failed');
      await assert.rejects(secret.send('another'), { code: 'forbidden' });

      await lobby.send('allowed');
      assert.equal(lobby.status, 'joined');
    } finally {
      client.close();
      await secured.close();
    }
  });

  test('failed send can be retried or discarded', async () => {
    const secured = await TestServer.start({ jwtSecret: SECRET, allowGuests: false });
    const client = createClient(secured.url, {
      guestName: undefined,
      token: signToken(SECRET, { sub: 'user-8', rooms: ['open'] }),
    });
    client.connect();
    const room = client.room('open');
    try {
      await waitFor('joined', () => room.status === 'joined');

      // Closing while the send is in flight: the server may or may not store it.
      const interrupted = room.send('interrupted');
      client.close();
      await assert.rejects(interrupted, { code: 'closed' });
      assert.equal(room.pending.length, 1);
      const failed = room.pending[0]!;
      assert.equal(failed.status, 'failed');
      assert.equal(failed.error?.code, 'closed');

      client.connect();
      const ack = await room.retry(failed.clientMessageId);
      await waitFor('delivered', () => room.messages.length === 1);
      assert.equal(room.messages[0]?.clientMessageId, failed.clientMessageId, 'the retry keeps the id');
      assert.equal(room.messages[0]?.seq, ack.seq);
      assert.deepEqual(room.pending, []);

      const secondTry = room.send('to discard');
      client.close();
      await assert.rejects(secondTry, { code: 'closed' });
      // Read through a function: the assertion above narrowed room.pending to an empty tuple.
      const toDiscard = pendingOf(room)[0]!;
      room.discard(toDiscard.clientMessageId);
      assert.deepEqual(room.pending, []);
      assert.throws(() => room.discard(toDiscard.clientMessageId), { code: 'invalid_field' });
      await assert.rejects(room.retry(toDiscard.clientMessageId), { code: 'invalid_field' });
    } finally {
      client.close();
      await secured.close();
    }
  });

  test('server-side rejection fails the send', async () => {
    const strict = await TestServer.start({ maxContentCodePoints: 10 });
    const client = createClient(strict.url);
    const room = client.room('strict');
    // Sent before the welcome, while the client still assumes the protocol's default limit.
    const tooLong = room.send('x'.repeat(20));
    const fine = room.send('short');
    client.connect();
    try {
      await assert.rejects(tooLong, (error: unknown) => {
        assert.ok(error instanceof ConfabError);
        assert.equal(error.code, 'too_large');
        return true;
      });
      await fine;
      assert.equal(client.limits.maxContentCodePoints, 10, 'limits come from the welcome');
      await waitFor('short one delivered', () => room.messages.length === 1);
      assert.equal(room.pending.length, 1);
      assert.equal(room.pending[0]?.status, 'failed');
      assert.equal(room.pending[0]?.error?.code, 'too_large');
    } finally {
      client.close();
      await strict.close();
    }
  });

  test('room references counted', async () => {
    const proxy = await TcpProxy.start(server.port);
    const client = createClient(proxy.url);
    const sent: string[] = [];
    proxy.inspectServerFrames = (text) => {
      const frame = JSON.parse(text) as { type: string };
      if (frame.type === 'joined' || frame.type === 'left') {
        sent.push(frame.type);
      }
      return 'pass';
    };
    client.connect();
    try {
      const first = client.room('counted');
      const second = client.room('counted');
      assert.equal(first, second);
      await waitFor('joined', () => first.status === 'joined');

      // Released and taken again at once, as React StrictMode does with effects.
      first.leave();
      const third = client.room('counted');
      assert.equal(third, first);
      second.leave();
      await delay(100);
      assert.equal(first.status, 'joined');
      assert.deepEqual(sent, ['joined']);

      third.leave();
      await waitFor('left', () => first.status === 'left');
      await waitFor('left frame', () => sent.length === 2);
      assert.deepEqual(sent, ['joined', 'left']);
      assert.equal(client.getRoom('counted'), undefined);
      await assert.rejects(first.send('after leaving'), { code: 'closed' });
    } finally {
      client.close();
      await proxy.close();
    }
  });
});
