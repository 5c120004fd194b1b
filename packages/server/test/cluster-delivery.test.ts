import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { clusterSkipReason } from './support/cluster-backends.js';
import { assertDelivery } from './support/delivery-checker.js';
import type { ResumingClient } from './support/resuming-client.js';
import { highestAckedSeq, TestCluster, waitUntil } from './support/test-cluster.js';

const TEST_TIMEOUT_MS = 150_000;
const skip = await clusterSkipReason();
// Short, so that the crash test waits seconds rather than the default 15 s.
const PRESENCE_LEASE_TTL_MS = 1500;
// A crashed node's users leave within the lease TTL plus one renew interval (a third of it). The
// rest of the bound is room for a slow, loaded test machine.
const PRESENCE_CLEAR_BOUND_MS = PRESENCE_LEASE_TTL_MS * 4;

/** Has each sender send `count` messages to `room`, all senders at once. */
async function sendConcurrently(senders: ResumingClient[], room: string, count: number, label: string): Promise<void> {
  await Promise.all(
    senders.map(async (sender) => {
      for (let i = 1; i <= count; i++) {
        await sender.send(room, `${label} ${sender.name} ${i}`);
      }
    }),
  );
}

async function waitForDelivery(clients: ResumingClient[], rooms: string[]): Promise<void> {
  await waitUntil('every client to hold every acknowledged event', () =>
    rooms.every((room) => {
      const head = highestAckedSeq(clients, room);
      return clients.every((client) => !client.rooms.includes(room) || client.lastSeqIn(room) >= head);
    }),
  );
}

describe('cluster delivery', { skip, timeout: TEST_TIMEOUT_MS }, () => {
  test('three nodes agree on one order per room', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const cluster = await TestCluster.start({ nodes: 3 });
    t.after(() => cluster.stop());
    const rooms = ['r1', 'r2'];

    const clients: ResumingClient[] = [];
    for (let i = 0; i < 6; i++) {
      clients.push(await cluster.client(`u${i + 1}`, i % 3, rooms));
    }
    // One sender per node in r1, and two on different nodes in r2, all at once.
    await Promise.all([
      sendConcurrently([clients[0], clients[1], clients[2]].filter(isClient), 'r1', 25, 'first'),
      sendConcurrently([clients[3], clients[4]].filter(isClient), 'r2', 25, 'second'),
    ]);
    await waitForDelivery(clients, rooms);

    const sends = clients.flatMap((client) => client.sends);
    assert.equal(sends.filter((send) => send.ack === undefined).length, 0, 'every send was acknowledged');
    assert.equal(highestAckedSeq(clients, 'r1'), 75);
    assert.equal(highestAckedSeq(clients, 'r2'), 50);
    assertDelivery(
      clients.map((client) => client.log),
      sends,
    );
    for (const client of clients) {
      assert.equal(client.connections, 1, `${client.name} never had to reconnect`);
    }
  });

  test('typing crosses nodes and stops before the message', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const cluster = await TestCluster.start({ nodes: 2 });
    t.after(() => cluster.stop());
    const room = 'r1';
    const u1 = await cluster.client('U1', 0, [room]);
    const u2 = await cluster.client('U2', 1, [room]);

    u1.notify({ type: 'typing', room, typing: true });
    await waitUntil('U2 to see U1 typing', () => u2.typing.some((change) => change.userId === 'U1' && change.typing));
    await u1.send(room, 'done typing');
    await waitUntil('U2 to get the message', () => u2.lastSeqIn(room) >= 1);
    await waitUntil('U2 to see U1 stop', () => u2.typing.some((change) => change.userId === 'U1' && !change.typing), 5000);

    const stop = u2.typing.find((change) => change.userId === 'U1' && !change.typing);
    assert.equal(stop?.eventsBefore, 0, 'the stop reached U2 before the message');
    assert.deepEqual(
      u2.typing.map((change) => change.typing),
      [true, false],
    );
  });

  test('node killed mid-stream: clients resume elsewhere', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const cluster = await TestCluster.start({ nodes: 3, presenceLeaseTtlMs: PRESENCE_LEASE_TTL_MS });
    t.after(() => cluster.stop());
    const room = 'r1';

    const clients: ResumingClient[] = [];
    for (let i = 0; i < 6; i++) {
      clients.push(await cluster.client(`u${i + 1}`, i % 3, [room]));
    }
    // A user only on node 1 who does not come back: the others must see them leave.
    await cluster.client('leaver', 0, [room], { reconnect: false });
    const watcher = clients[1];
    assert.ok(watcher !== undefined);
    await waitUntil('the watcher to see the leaver', () =>
      watcher.presence.some((change) => change.userId === 'leaver' && change.action === 'join'),
    );

    const senders = [clients[0], clients[1], clients[2]].filter(isClient);
    const traffic = sendConcurrently(senders, room, 40, 'msg');
    await waitUntil('traffic to be under way', () => highestAckedSeq(clients, room) >= 30);
    const killedAt = Date.now();
    await cluster.nodes[0]?.kill();

    await traffic;
    await waitForDelivery(clients, [room]);

    const sends = clients.flatMap((client) => client.sends);
    assert.equal(sends.filter((send) => send.ack === undefined).length, 0, 'every send was acknowledged');
    assert.equal(highestAckedSeq(clients, room), 120);
    assertDelivery(
      clients.map((client) => client.log),
      sends,
    );
    assert.ok((clients[0]?.connections ?? 0) >= 2, 'the client of the killed node reconnected');

    await waitUntil(
      'the leaver to leave',
      () => watcher.presence.some((change) => change.userId === 'leaver' && change.action === 'leave'),
      PRESENCE_CLEAR_BOUND_MS * 3,
    );
    const leftAt = watcher.presence.find((change) => change.userId === 'leaver' && change.action === 'leave')?.at ?? 0;
    assert.ok(
      leftAt - killedAt <= PRESENCE_CLEAR_BOUND_MS,
      `the leave came ${leftAt - killedAt} ms after the kill; the bound is ${PRESENCE_CLEAR_BOUND_MS} ms`,
    );
    // Users who moved to another node stayed online throughout.
    assert.ok(
      !watcher.presence.some((change) => change.userId === 'u1' && change.action === 'leave'),
      'u1 reconnected to another node and never went offline',
    );
  });

  test('crashed node users go offline and stay so (C4)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const cluster = await TestCluster.start({ nodes: 2, presenceLeaseTtlMs: PRESENCE_LEASE_TTL_MS });
    t.after(() => cluster.stop());
    const room = 'r1';

    const u1 = await cluster.client('U1', 0, [room], { reconnect: false });
    const u2 = await cluster.client('U2', 1, [room]);
    assert.ok(u2.members.get(room)?.some((member) => member.id === 'U1'), 'U2 sees U1 online when joining');
    assert.ok(u1.isConnected);

    const killedAt = Date.now();
    await cluster.nodes[0]?.kill();
    await waitUntil('U2 to see U1 leave', () => u2.presence.some((change) => change.userId === 'U1' && change.action === 'leave'), PRESENCE_CLEAR_BOUND_MS * 3);
    const leftAt = u2.presence.find((change) => change.userId === 'U1' && change.action === 'leave')?.at ?? 0;
    assert.ok(leftAt - killedAt <= PRESENCE_CLEAR_BOUND_MS, `U1 left ${leftAt - killedAt} ms after the kill`);

    // N1 comes back on the same port with the same node id.
    await cluster.restartNode(0);
    const u3 = await cluster.client('U3', 0, [room]);
    await new Promise((resolve) => setTimeout(resolve, PRESENCE_LEASE_TTL_MS));

    assert.deepEqual(
      u3.members.get(room)?.map((member) => member.id).sort(),
      ['U2', 'U3'],
      'a new member on the restarted node does not see U1',
    );
    const u1Changes = u2.presence.filter((change) => change.userId === 'U1').map((change) => change.action);
    assert.deepEqual(u1Changes, ['leave'], 'U1 never reappears for U2');
  });
});

function isClient(client: ResumingClient | undefined): client is ResumingClient {
  return client !== undefined;
}
