import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import type { ConfabClient, Room } from '../src/index.js';
import { assertContiguous, contents, createClient, delay, TestServer, waitFor } from './support/harness.js';
import { TcpProxy } from './support/tcp-proxy.js';

/** Asserts that every room contains the same messages, each once, in seq order, and exactly `expected`. */
function assertSameLog(rooms: Room[], expected: string[]): void {
  for (const room of rooms) {
    assertContiguous(room);
    assert.deepEqual([...contents(room)].sort(), [...expected].sort(), `room of ${room.name}: every message once`);
  }
  const reference = contents(rooms[0]!);
  for (const room of rooms.slice(1)) {
    assert.deepEqual(contents(room), reference, 'same order in every client');
  }
}

function eventSeq(text: string): number | null {
  const frame = JSON.parse(text) as { type: string; event?: { seq: number } };
  return frame.type === 'event' && frame.event !== undefined ? frame.event.seq : null;
}

describe('resume and recovery', () => {
  let server: TestServer;
  const clients: ConfabClient[] = [];
  const proxies: TcpProxy[] = [];

  before(async () => {
    server = await TestServer.start({ sendRatePerSecond: 1000, sendBurst: 1000 });
  });

  after(async () => {
    for (const client of clients) {
      client.close();
    }
    for (const proxy of proxies) {
      await proxy.close();
    }
    await server.close();
  });

  async function proxied(): Promise<TcpProxy> {
    const proxy = await TcpProxy.start(server.port);
    proxies.push(proxy);
    return proxy;
  }

  function client(url: string, name: string): ConfabClient {
    const created = createClient(url, { guestName: name });
    clients.push(created);
    created.connect();
    return created;
  }

  test('dropped connection loses nothing', async () => {
    const proxy = await proxied();
    const alice = client(server.url, 'alice').room('drop');
    const bob = client(proxy.url, 'bob').room('drop');
    await waitFor('both joined', () => alice.status === 'joined' && bob.status === 'joined');

    const expected: string[] = [];
    const sends: Promise<unknown>[] = [];
    const say = (room: Room, text: string): void => {
      expected.push(text);
      sends.push(room.send(text));
    };

    for (let index = 0; index < 5; index++) {
      say(alice, `alice ${index}`);
      say(bob, `bob ${index}`);
    }
    // Cut while sends and deliveries are under way.
    await waitFor('some delivered to bob', () => bob.messages.length >= 3);
    proxy.cutAll();
    for (let index = 5; index < 10; index++) {
      say(alice, `alice ${index}`);
      say(bob, `bob offline ${index}`);
    }
    assert.ok(bob.pending.length > 0, 'offline sends are pending');

    await Promise.all(sends);
    await waitFor('all delivered', () => alice.messages.length === 20 && bob.messages.length === 20);
    assertSameLog([alice, bob], expected);
    assert.deepEqual(bob.pending, []);
    assert.deepEqual(
      contents(bob).filter((text) => text.startsWith('bob')),
      [...Array.from({ length: 5 }, (_, index) => `bob ${index}`), ...Array.from({ length: 5 }, (_, index) => `bob offline ${index + 5}`)],
      "bob's messages keep his send order",
    );
  });

  test('repeated cuts under load', async () => {
    const proxyB = await proxied();
    const proxyC = await proxied();
    const alice = client(server.url, 'alice').room('churn');
    const bob = client(proxyB.url, 'bob').room('churn');
    const carol = client(proxyC.url, 'carol').room('churn');
    await waitFor('all joined', () => [alice, bob, carol].every((room) => room.status === 'joined'));

    const expected: string[] = [];
    const sends: Promise<unknown>[] = [];
    for (let round = 0; round < 6; round++) {
      for (const room of [alice, bob, carol]) {
        const text = `${room === alice ? 'a' : room === bob ? 'b' : 'c'}${round}`;
        expected.push(text);
        sends.push(room.send(text));
      }
      await delay(15);
      (round % 2 === 0 ? proxyB : proxyC).cutAll();
    }

    await Promise.all(sends);
    await waitFor('all delivered', () => [alice, bob, carol].every((room) => room.messages.length === expected.length));
    assertSameLog([alice, bob, carol], expected);
  });

  test('server restart loses nothing', async () => {
    const restartable = await TestServer.start({ sendRatePerSecond: 1000, sendBurst: 1000 });
    const proxyA = await TcpProxy.start(restartable.port);
    const proxyB = await TcpProxy.start(restartable.port);
    const alice = createClient(proxyA.url, { guestName: 'alice' });
    const bob = createClient(proxyB.url, { guestName: 'bob' });
    alice.connect();
    bob.connect();
    const aliceRoom = alice.room('restart');
    const bobRoom = bob.room('restart');
    const resets: number[] = [];
    bobRoom.on('reset', ({ headSeq }) => resets.push(headSeq));
    try {
      await waitFor('both joined', () => aliceRoom.status === 'joined' && bobRoom.status === 'joined');
      const expected: string[] = [];
      const sends: Promise<unknown>[] = [];
      for (let index = 0; index < 4; index++) {
        expected.push(`before ${index}`);
        sends.push(aliceRoom.send(`before ${index}`));
      }
      await Promise.all(sends);

      const restarting = restartable.restart();
      for (let index = 0; index < 4; index++) {
        expected.push(`during ${index}`);
        sends.push((index % 2 === 0 ? aliceRoom : bobRoom).send(`during ${index}`));
      }
      await restarting;
      proxyA.setTarget(restartable.port);
      proxyB.setTarget(restartable.port);
      for (let index = 0; index < 4; index++) {
        expected.push(`after ${index}`);
        sends.push((index % 2 === 0 ? bobRoom : aliceRoom).send(`after ${index}`));
      }

      await Promise.all(sends);
      await waitFor('all delivered', () => aliceRoom.messages.length === 12 && bobRoom.messages.length === 12);
      assertSameLog([aliceRoom, bobRoom], expected);
      assert.deepEqual(resets, [], 'same database: the rooms resumed');
    } finally {
      alice.close();
      bob.close();
      await proxyA.close();
      await proxyB.close();
      await restartable.close();
    }
  });

  test('new database resets the room', async () => {
    const first = await TestServer.start();
    const proxy = await TcpProxy.start(first.port);
    const reader = createClient(proxy.url, { guestName: 'reader' });
    const writerOne = createClient(first.url, { guestName: 'writer' });
    reader.connect();
    writerOne.connect();
    const room = reader.room('epoch');
    const resets: number[] = [];
    room.on('reset', ({ headSeq }) => resets.push(headSeq));
    let second: TestServer | undefined;
    try {
      await writerOne.room('epoch').send('old log 1');
      await writerOne.room('epoch').send('old log 2');
      await waitFor('old log delivered', () => room.messages.length === 2);
      writerOne.close();

      second = await TestServer.start();
      const writerTwo = createClient(second.url, { guestName: 'writer' });
      writerTwo.connect();
      await writerTwo.room('epoch').send('new log 1');
      writerTwo.close();

      proxy.setTarget(second.port);
      proxy.cutAll();
      await waitFor('reloaded from the new log', () => contents(room).join() === 'new log 1');
      assert.deepEqual(resets, [1]);
      assert.equal(room.messages[0]?.seq, 1);
    } finally {
      reader.close();
      writerOne.close();
      await proxy.close();
      await first.close();
      await second?.close();
    }
  });

  test('missing event fetched from history', async () => {
    const proxy = await proxied();
    const alice = client(server.url, 'alice').room('gap');
    const bob = client(proxy.url, 'bob').room('gap');
    await waitFor('both joined', () => alice.status === 'joined' && bob.status === 'joined');

    const dropped: number[] = [];
    proxy.inspectServerFrames = (text) => {
      const seq = eventSeq(text);
      if (seq === 2 || seq === 3 || seq === 6) {
        dropped.push(seq);
        return 'drop';
      }
      return 'pass';
    };
    const expected = Array.from({ length: 8 }, (_, index) => `g${index + 1}`);
    for (const text of expected) {
      await alice.send(text);
    }

    await waitFor('bob caught up', () => bob.messages.length === 8);
    assert.deepEqual(dropped, [2, 3, 6], 'the proxy dropped the live frames');
    assertSameLog([alice, bob], expected);
  });

  test('duplicate events delivered once', async () => {
    const proxy = await proxied();
    const alice = client(server.url, 'alice').room('dupes');
    const bob = client(proxy.url, 'bob').room('dupes');
    await waitFor('both joined', () => alice.status === 'joined' && bob.status === 'joined');

    let duplicated = 0;
    proxy.inspectServerFrames = (text) => {
      if (eventSeq(text) !== null) {
        duplicated++;
        return 'duplicate';
      }
      return 'pass';
    };
    const received: number[] = [];
    bob.on('message', (event) => received.push(event.seq));
    const expected = ['d1', 'd2', 'd3', 'd4'];
    for (const text of expected) {
      await alice.send(text);
    }

    await waitFor('bob has all', () => bob.messages.length === 4);
    await delay(50);
    assert.equal(duplicated, 4);
    assert.deepEqual(received, [1, 2, 3, 4]);
    assertSameLog([alice, bob], expected);
  });

  test('lost ack not stored twice', async () => {
    const proxy = await proxied();
    const alice = client(server.url, 'alice').room('lost-ack');
    const bob = client(proxy.url, 'bob').room('lost-ack');
    await waitFor('both joined', () => alice.status === 'joined' && bob.status === 'joined');

    // The server stores the message, but its ack and event never reach bob before the cut.
    let cut = false;
    proxy.inspectServerFrames = (text) => {
      const frame = JSON.parse(text) as { type: string };
      if (!cut && (frame.type === 'sent' || frame.type === 'event')) {
        cut = true;
        setImmediate(() => {
          proxy.inspectServerFrames = null;
          proxy.cutAll();
        });
        return 'drop';
      }
      return cut && frame.type === 'event' ? 'drop' : 'pass';
    };

    const ack = await bob.send('exactly once');
    await waitFor('delivered to both', () => alice.messages.length === 1 && bob.messages.length === 1);
    await alice.send('next');
    await waitFor('next delivered', () => bob.messages.length === 2);
    assert.ok(cut, 'the connection was cut');
    assert.equal(bob.messages[0]?.seq, ack.seq);
    assertSameLog([alice, bob], ['exactly once', 'next']);
  });
});
