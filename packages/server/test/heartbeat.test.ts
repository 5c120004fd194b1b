import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { TcpProxy } from './support/tcp-proxy.js';
import { TestClient } from './support/test-client.js';
import { sleep, startTestServer } from './support/test-server.js';

const TEST_TIMEOUT_MS = 30_000;
const PING_INTERVAL_MS = 200;
const PING_TIMEOUT_MS = 200;
/** Timer and scheduling slack on top of interval + timeout; well below any default heartbeat. */
const DETECTION_SLACK_MS = 600;
/** Long enough that a typing stop can only come from the disconnect under test. */
const LONG_TYPING_TIMEOUT_MS = 60_000;
/** Read timeout of the proxy in front of the idle client. */
const PROXY_IDLE_TIMEOUT_MS = 1000;
/** How long the idle client stays idle: several proxy timeouts. */
const IDLE_PERIOD_MS = 3500;

const HEARTBEAT_CONFIG = {
  pingIntervalMs: PING_INTERVAL_MS,
  pingTimeoutMs: PING_TIMEOUT_MS,
  typingTimeoutMs: LONG_TYPING_TIMEOUT_MS,
};

/** Resolves true when the client closed within `ms`, false when it is still open. */
async function closesWithin(client: TestClient, ms: number): Promise<boolean> {
  return Promise.race([client.closed.then(() => true), sleep(ms).then(() => false)]);
}

describe('heartbeat', { timeout: TEST_TIMEOUT_MS }, () => {
  test('blackholed client: gone within ping bounds', async (t) => {
    const { server, stop } = await startTestServer(HEARTBEAT_CONFIG);
    t.after(stop);
    const proxy = await TcpProxy.start(server.port);
    t.after(() => proxy.close());

    const watcher = await TestClient.guest(server.url, 'Bob');
    await watcher.join('r1');
    const silent = await TestClient.guest(proxy.url, 'Alice');
    await silent.join('r1');
    await watcher.waitForType('presence', (frame) => frame.action === 'join' && frame.user.id === silent.userId);
    silent.send({ type: 'typing', room: 'r1', typing: true });
    await watcher.waitForType('typing', (frame) => frame.typing && frame.user.id === silent.userId);

    proxy.blackhole();
    const blackholedAt = Date.now();
    const typingStop = await watcher.waitForType('typing', (frame) => !frame.typing && frame.user.id === silent.userId);
    const leave = await watcher.waitForType('presence', (frame) => frame.action === 'leave' && frame.user.id === silent.userId);
    const detectedAfterMs = Date.now() - blackholedAt;
    const rejoined = await watcher.join('r1');
    t.diagnostic(`silent client dropped ${detectedAfterMs} ms after the blackhole`);

    assert.equal(typingStop.room, 'r1');
    assert.equal(leave.room, 'r1');
    assert.ok(
      detectedAfterMs <= PING_INTERVAL_MS + PING_TIMEOUT_MS + DETECTION_SLACK_MS,
      `the silent client was dropped ${detectedAfterMs} ms after its packets stopped`,
    );
    assert.deepEqual(
      rejoined.members.map((member) => member.id),
      [watcher.userId],
      'the member list no longer holds the silent client',
    );
    assert.ok(
      watcher.frames.indexOf(typingStop) < watcher.frames.indexOf(leave),
      'the typing stop reaches members before the leave',
    );
  });

  test('idle client behind read-timeout proxy: kept alive', async (t) => {
    const { server, stop } = await startTestServer(HEARTBEAT_CONFIG);
    t.after(stop);
    const proxy = await TcpProxy.start(server.port, { idleTimeoutMs: PROXY_IDLE_TIMEOUT_MS });
    t.after(() => proxy.close());

    const idle = await TestClient.guest(proxy.url, 'Alice');
    await idle.join('r1');
    const closedWhileIdle = await closesWithin(idle, IDLE_PERIOD_MS);
    const pong = await idle.request({ type: 'ping' });
    const other = await TestClient.guest(server.url, 'Bob');
    await other.join('r1');
    const sent = await other.sendMessage('r1', 'still there?');
    const event = await idle.waitForType('event', (frame) => frame.event.seq === sent.seq);

    assert.equal(closedWhileIdle, false, 'heartbeats keep the proxied connection from idling out');
    assert.equal(proxy.idleCuts, 0);
    assert.equal(pong.type, 'pong');
    assert.equal(event.event.content, 'still there?');
  });

  test('control: no heartbeat, proxy cuts idle client', async (t) => {
    // Shows that the proxy's read timeout does cut idle connections, so the test above can fail.
    const { server, stop } = await startTestServer({ pingIntervalMs: 60_000, pingTimeoutMs: 60_000 });
    t.after(stop);
    const proxy = await TcpProxy.start(server.port, { idleTimeoutMs: PROXY_IDLE_TIMEOUT_MS });
    t.after(() => proxy.close());

    const idle = await TestClient.guest(proxy.url, 'Alice');
    await idle.join('r1');
    const closedWhileIdle = await closesWithin(idle, IDLE_PERIOD_MS);

    assert.equal(closedWhileIdle, true);
    assert.equal(proxy.idleCuts, 1);
  });

  test('healthy direct client: not dropped', async (t) => {
    const { server, stop } = await startTestServer(HEARTBEAT_CONFIG);
    t.after(stop);

    const client = await TestClient.guest(server.url, 'Alice');
    await client.join('r1');
    const closed = await closesWithin(client, 10 * (PING_INTERVAL_MS + PING_TIMEOUT_MS));

    assert.equal(closed, false, 'a client that answers pings stays connected');
  });
});
