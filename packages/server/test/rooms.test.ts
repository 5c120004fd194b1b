import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TestClient } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';

/** Time limit of each test, in milliseconds. */
const TEST_TIMEOUT_MS = 20_000;

describe('rooms', () => {
  test('join then leave', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    const joined = await client.join('lobby');

    assert.equal(joined.room, 'lobby');
    assert.equal(joined.headSeq, 0);
    assert.equal(joined.resumed, false);
    assert.deepEqual(joined.members, [{ id: client.userId, name: 'Ada', devices: 1 }]);

    const left = await client.request({ type: 'leave', room: 'lobby' });
    assert.equal(left.type, 'left');
    if (left.type !== 'left') return;
    assert.equal(left.room, 'lobby');

    const sendError = await client.requestError({ type: 'send', room: 'lobby', clientMessageId: 'c1', content: 'hi' });
    assert.equal(sendError.code, 'not_joined');
  });

  test('left room delivers no events', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const leaver = await TestClient.guest(server.url, 'Ada');
    const sender = await TestClient.guest(server.url, 'Bob');
    await leaver.join('lobby');
    await sender.join('lobby');
    await leaver.request({ type: 'leave', room: 'lobby' });
    await sender.sendMessage('lobby', 'after the leave');
    await sender.waitForEvents('lobby', 1);
    await leaver.settle();

    assert.equal(leaver.eventsIn('lobby').length, 0);
  });

  test('many rooms per connection', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const rooms = Array.from({ length: 10 }, (_, index) => `room-${index}`);
    const client = await TestClient.guest(server.url, 'Ada');
    const watcher = await TestClient.guest(server.url, 'Bob');
    for (const room of rooms) {
      await client.join(room);
    }
    await watcher.join('room-3');

    for (const room of rooms) {
      await client.sendMessage(room, `hello ${room}`);
    }
    for (const room of rooms) {
      await client.waitForEvents(room, 1);
    }
    await watcher.waitForEvents('room-3', 1);
    await watcher.settle();

    for (const room of rooms) {
      const events = client.eventsIn(room);
      assert.equal(events.length, 1, `events in ${room}`);
      assert.equal(events[0]?.content, `hello ${room}`, `content in ${room}`);
      assert.equal(events[0]?.seq, 1, `seq in ${room}`);
    }
    const watched = watcher.frames.filter((frame) => frame.type === 'event');
    assert.equal(watched.length, 1);
  });

  test('room name rules: invalid_field', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    const invalidNames: unknown[] = [
      '',
      '-dash-first',
      '.dot-first',
      ':colon-first',
      'has space',
      'slash/inside',
      '../escape',
      'ümlaut',
      'emoji-😀',
      'x'.repeat(65),
      'tab\there',
      42,
      null,
      { name: 'lobby' },
      ['lobby'],
    ];
    for (const room of invalidNames) {
      const error = await client.requestError({ type: 'join', room });
      assert.equal(error.code, 'invalid_field', `join ${JSON.stringify(room)}`);
      assert.equal(error.field, 'room', `join ${JSON.stringify(room)}`);
    }
    const missing = await client.requestError({ type: 'join' });
    assert.equal(missing.code, 'invalid_field');
    assert.equal(missing.field, 'room');

    for (const type of ['leave', 'history']) {
      const error = await client.requestError({ type, room: 'has space' });
      assert.equal(error.code, 'invalid_field', type);
    }
    const sendError = await client.requestError({ type: 'send', room: '../x', clientMessageId: 'c1', content: 'hi' });
    assert.equal(sendError.code, 'invalid_field');

    for (const room of ['a', '7', 'x'.repeat(64), 'A.b:c-d_9']) {
      const reply = await client.request({ type: 'join', room });
      assert.equal(reply.type, 'joined', `join ${room}`);
    }
  });

  test('maxRoomsPerConnection: too_many_rooms', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer({ maxRoomsPerConnection: 3 });
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    for (const room of ['r1', 'r2', 'r3']) {
      await client.join(room);
    }
    const error = await client.requestError({ type: 'join', room: 'r4' });
    assert.equal(error.code, 'too_many_rooms');

    // Rejoining a room already joined takes no new place.
    const rejoin = await client.request({ type: 'join', room: 'r2' });
    assert.equal(rejoin.type, 'joined');

    await client.request({ type: 'leave', room: 'r1' });
    const afterLeave = await client.request({ type: 'join', room: 'r4' });
    assert.equal(afterLeave.type, 'joined');

    // The limit counts per connection, not per user.
    const other = await TestClient.guest(server.url, 'Bob');
    for (const room of ['r1', 'r2', 'r3']) {
      const reply = await other.request({ type: 'join', room });
      assert.equal(reply.type, 'joined', `second connection joins ${room}`);
    }
  });

  test('send to unjoined room: not_joined', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    const member = await TestClient.guest(server.url, 'Bob');
    await member.join('lobby');
    const error = await client.requestError({ type: 'send', room: 'lobby', clientMessageId: 'c1', content: 'hi' });
    const history = await member.request({ type: 'history', room: 'lobby' });
    await member.settle();

    assert.equal(error.code, 'not_joined');
    assert.equal(member.eventsIn('lobby').length, 0);
    assert.equal(history.type, 'history');
    if (history.type !== 'history') return;
    assert.equal(history.events.length, 0);
  });

  test('leave of unjoined room: not_joined', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    const error = await client.requestError({ type: 'leave', room: 'lobby' });
    await client.join('lobby');
    await client.request({ type: 'leave', room: 'lobby' });
    const secondLeave = await client.requestError({ type: 'leave', room: 'lobby' });

    assert.equal(error.code, 'not_joined');
    assert.equal(secondLeave.code, 'not_joined');
  });

  test('typing in unjoined room: not_joined', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    const error = await client.requestError({ type: 'typing', room: 'lobby', typing: true });

    assert.equal(error.code, 'not_joined');
  });

  test('rejoin answers joined, replays nothing', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer();
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Ada');
    const sender = await TestClient.guest(server.url, 'Bob');
    await client.join('lobby');
    await sender.join('lobby');
    await sender.sendMessage('lobby', 'one');
    await sender.sendMessage('lobby', 'two');
    await client.waitForEvents('lobby', 2);

    const rejoin = await client.join('lobby');
    const rejoinWithSince = await client.join('lobby', { since: 0, epoch: client.welcome?.epoch });
    await sender.sendMessage('lobby', 'three');
    await client.waitForEvents('lobby', 3);
    await client.settle();

    assert.equal(rejoin.resumed, false);
    assert.equal(rejoin.headSeq, 2);
    assert.equal(rejoinWithSince.resumed, false);
    assert.deepEqual(
      rejoin.members.find((member) => member.id === client.userId),
      { id: client.userId, name: 'Ada', devices: 1 },
    );
    assert.deepEqual(
      client.eventsIn('lobby').map((event) => event.seq),
      [1, 2, 3],
    );
  });
});
