import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import type { PresenceFrame, ServerFrame } from '@confab/protocol';

import { TestClient } from './support/test-client.js';
import { startTestServer } from './support/test-server.js';
import { signTestToken, TEST_JWT_SECRET } from './support/test-tokens.js';

/** Time limit of each test, in milliseconds. */
const TEST_TIMEOUT_MS = 20_000;
const SERVER_OPTIONS = { jwtSecret: TEST_JWT_SECRET };

function presenceIn(client: TestClient, room: string): PresenceFrame[] {
  return client.frames.filter(
    (frame: ServerFrame): frame is PresenceFrame => frame.type === 'presence' && frame.room === room,
  );
}

function summary(frames: PresenceFrame[]): string[] {
  return frames.map((frame) => `${frame.action} ${frame.user.id}`);
}

describe('presence', () => {
  test('members list on join', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const alice = await TestClient.withToken(server.url, await signTestToken({ sub: 'alice', name: 'Alice' }));
    const bob = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob', name: 'Bob' }));
    const aliceJoined = await alice.join('lobby');
    const bobJoined = await bob.join('lobby');
    const joinSeen = await alice.waitForType('presence');
    await bob.settle();

    assert.deepEqual(aliceJoined.members, [{ id: 'alice', name: 'Alice', devices: 1 }]);
    assert.deepEqual(
      [...bobJoined.members].sort((a, b) => a.id.localeCompare(b.id)),
      [
        { id: 'alice', name: 'Alice', devices: 1 },
        { id: 'bob', name: 'Bob', devices: 1 },
      ],
    );
    assert.deepEqual(joinSeen, { type: 'presence', room: 'lobby', action: 'join', user: { id: 'bob', name: 'Bob' } });
    assert.deepEqual(summary(presenceIn(bob, 'lobby')), [], 'bob gets no presence event for his own join');
  });

  test('three tabs: one member, devices 3', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const aliceToken = await signTestToken({ sub: 'alice', name: 'Alice' });
    const bob = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob', name: 'Bob' }));
    await bob.join('lobby');
    const tabs = [];
    for (let i = 0; i < 3; i++) {
      const tab = await TestClient.withToken(server.url, aliceToken);
      await tab.join('lobby');
      tabs.push(tab);
    }
    const carol = await TestClient.withToken(server.url, await signTestToken({ sub: 'carol', name: 'Carol' }));
    const carolJoined = await carol.join('lobby');
    await bob.settle();

    assert.deepEqual(
      carolJoined.members.find((member) => member.id === 'alice'),
      { id: 'alice', name: 'Alice', devices: 3 },
    );
    assert.equal(carolJoined.members.filter((member) => member.id === 'alice').length, 1);
    assert.deepEqual(summary(presenceIn(bob, 'lobby')), ['join alice', 'join carol']);
  });

  test('leave only with last connection', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const aliceToken = await signTestToken({ sub: 'alice', name: 'Alice' });
    const bob = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob', name: 'Bob' }));
    await bob.join('lobby');
    const [leaving, closing, cutting] = [
      await TestClient.withToken(server.url, aliceToken),
      await TestClient.withToken(server.url, aliceToken),
      await TestClient.withToken(server.url, aliceToken),
    ];
    for (const tab of [leaving, closing, cutting]) {
      await tab.join('lobby');
    }
    await bob.waitForType('presence', (frame) => frame.action === 'join');

    await leaving.request({ type: 'leave', room: 'lobby' });
    closing.close();
    await closing.waitForClose();
    await bob.settle(300);
    const afterTwo = summary(presenceIn(bob, 'lobby'));
    const check = await TestClient.withToken(server.url, await signTestToken({ sub: 'carol' }));
    const checkJoined = await check.join('lobby');

    cutting.cut();
    const leave = await bob.waitForType('presence', (frame) => frame.action === 'leave');

    assert.deepEqual(afterTwo, ['join alice'], 'no leave while one tab remains');
    assert.equal(checkJoined.members.find((member) => member.id === 'alice')?.devices, 1);
    assert.deepEqual(leave.user, { id: 'alice', name: 'Alice' });
    await bob.settle();
    assert.deepEqual(summary(presenceIn(bob, 'lobby')), ['join alice', 'join carol', 'leave alice']);
  });

  test('second tab joining: no join event', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const aliceToken = await signTestToken({ sub: 'alice', name: 'Alice' });
    const bob = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob', name: 'Bob' }));
    await bob.join('lobby');
    const first = await TestClient.withToken(server.url, aliceToken);
    await first.join('lobby');
    await bob.waitForType('presence');
    const second = await TestClient.withToken(server.url, aliceToken);
    const secondJoined = await second.join('lobby');
    await bob.settle();
    await first.settle();

    assert.deepEqual(summary(presenceIn(bob, 'lobby')), ['join alice']);
    assert.deepEqual(summary(presenceIn(first, 'lobby')), [], 'alice sees no presence for her own tab');
    assert.equal(secondJoined.members.find((member) => member.id === 'alice')?.devices, 2);
  });

  test('cut of only tab: leave event', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const { server, stop } = await startTestServer(SERVER_OPTIONS);
    t.after(stop);

    const alice = await TestClient.withToken(server.url, await signTestToken({ sub: 'alice', name: 'Alice' }));
    const bob = await TestClient.withToken(server.url, await signTestToken({ sub: 'bob', name: 'Bob' }));
    await alice.join('lobby');
    await alice.join('annex');
    await bob.join('lobby');
    await bob.join('annex');

    alice.cut();
    const lobbyLeave = await bob.waitForType('presence', (frame) => frame.action === 'leave' && frame.room === 'lobby');
    const annexLeave = await bob.waitForType('presence', (frame) => frame.action === 'leave' && frame.room === 'annex');
    const carol = await TestClient.withToken(server.url, await signTestToken({ sub: 'carol' }));
    const carolJoined = await carol.join('lobby');

    assert.equal(lobbyLeave.user.id, 'alice');
    assert.equal(annexLeave.user.id, 'alice');
    assert.deepEqual(carolJoined.members.map((member) => member.id).sort(), ['bob', 'carol']);
  });
});
