import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { CLOSE_CODES } from '@confab/protocol';

import { startCliServer } from '../support/cli-process.js';
import { findDeliveryViolations, type ReceivedLog } from '../support/delivery-checker.js';
import { freePort } from '../support/private-redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { TestClient } from '../support/test-client.js';
import { sleep } from '../support/test-server.js';
import { stopCliServer } from './support/cli-server-control.js';
import { ParticipantGroup } from './support/participant-group.js';
import { readMetric } from './support/read-metric.js';
import { RssSampler } from './support/rss-sampler.js';
import type { SdkParticipant } from './support/sdk-participant.js';

const TEST_TIMEOUT_MS = 60_000;
const MIB = 1024 * 1024;
/** One-way delays of the proxies in front of the delayed participants, in milliseconds. */
const PROXY_DELAYS_MS = [20, 150, 600];
const PARTICIPANTS_PER_PROXY = 2;
const DIRECT_FLOODERS = 2;
/** Near the default content limit, so that a few thousand messages overflow the stalled socket. */
const FLOOD_CONTENT = 'x'.repeat(3900);
/** App sends a flooder keeps queued in its SDK, so that one is always in flight. */
const FLOOD_QUEUE = 8;
/** Pause between two sends of a delayed participant, in milliseconds. */
const DELAYED_SEND_INTERVAL_MS = 200;
/** Traffic runs at least this long, and until the stalled reader has been dropped. */
const MIN_TRAFFIC_MS = 5000;
const MAX_TRAFFIC_MS = 25_000;
const JOIN_TIMEOUT_MS = 15_000;
const SETTLE_TIMEOUT_MS = 25_000;
/**
 * Loose bound on the server's RSS growth during the run. Each connection's queue is capped at
 * 256 KiB, so a server that buffers the stalled reader's backlog without limit passes it quickly.
 */
const MAX_SERVER_RSS_GROWTH_BYTES = 150 * MIB;

const SERVER_FLAGS = [
  '--log-level', 'warn',
  '--sqlite-synchronous', 'normal',
  '--send-rate-per-second', '10000',
  '--send-burst', '10000',
  '--send-buffer-soft-bytes', String(64 * 1024),
  '--send-buffer-hard-bytes', String(256 * 1024),
  '--slow-consumer-grace-ms', '1000',
];

/** Returns the TCP socket under a test client's WebSocket, so that the test can stop reading. */
function socketOf(client: TestClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

/** Sends numbered messages through the SDK until `stop()` returns true, with at most `queue` unsettled. */
async function sendUntil(participant: SdkParticipant, rooms: string[], content: string, queue: number, pauseMs: number, stop: () => boolean): Promise<void> {
  for (let count = 1; !stop(); count++) {
    while (participant.pendingSends >= queue && !stop()) {
      await sleep(2);
    }
    participant.send(rooms[count % rooms.length] as string, `${participant.name} #${count} ${content}`);
    await sleep(pauseMs);
  }
}

describe('delayed frames and a stalled reader', { timeout: TEST_TIMEOUT_MS }, () => {
  test('delays, stalled reader: delivery intact', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'confab-delayed-'));
    const port = await freePort();
    const server = await startCliServer(['--port', String(port), '--database', join(directory, 'confab.db'), ...SERVER_FLAGS]);
    const proxies: TcpProxy[] = [];
    const group = new ParticipantGroup();
    let stalled: TestClient | undefined;
    t.after(async () => {
      group.closeAll();
      stalled?.cut();
      for (const proxy of proxies) {
        await proxy.close();
      }
      await stopCliServer(server);
      rmSync(directory, { recursive: true, force: true });
    });

    const delayed: SdkParticipant[] = [];
    for (const delayMs of PROXY_DELAYS_MS) {
      const proxy = await TcpProxy.start(port, { delayMs });
      proxies.push(proxy);
      for (let index = 0; index < PARTICIPANTS_PER_PROXY; index++) {
        delayed.push(group.add({ name: `delayed-${delayMs}ms-${index}`, url: proxy.url, rooms: ['r1', 'r2'] }));
      }
    }
    const flooders: SdkParticipant[] = [];
    for (let index = 0; index < DIRECT_FLOODERS; index++) {
      flooders.push(group.add({ name: `flooder-${index}`, url: server.url, rooms: ['r1'] }));
    }
    group.startAll();
    await group.waitUntilJoined(JOIN_TIMEOUT_MS);

    stalled = await TestClient.guest(server.url, 'Stalled');
    const stalledJoin = await stalled.join('r1');
    const rss = new RssSampler(server.child.pid as number);
    const baselineRssBytes = rss.peakBytes;
    socketOf(stalled).pause();

    const startedAt = Date.now();
    let stalledDropped = false;
    const stop = (): boolean => {
      const elapsedMs = Date.now() - startedAt;
      return elapsedMs >= MAX_TRAFFIC_MS || (elapsedMs >= MIN_TRAFFIC_MS && stalledDropped);
    };
    const traffic = [
      ...flooders.map((participant) => sendUntil(participant, ['r1'], FLOOD_CONTENT, FLOOD_QUEUE, 0, stop)),
      ...delayed.map((participant) => sendUntil(participant, ['r1', 'r2'], 'hello', 2, DELAYED_SEND_INTERVAL_MS, stop)),
    ];
    while (!stop()) {
      stalledDropped = (await readMetric(server.httpUrl, 'confab_slow_consumer_closes_total')) >= 1;
      await sleep(250);
    }
    await Promise.all(traffic);
    await group.waitUntilSettled(SETTLE_TIMEOUT_MS);
    rss.stop();

    socketOf(stalled).resume();
    const closed = await stalled.waitForClose(10_000);
    const stalledLog: ReceivedLog = {
      client: 'Stalled',
      events: stalled.eventsIn('r1'),
      firstSeq: { r1: stalledJoin.headSeq + 1 },
    };
    const heads = { r1: group.highestAckedSeq('r1'), r2: group.highestAckedSeq('r2') };
    t.diagnostic(`heads ${JSON.stringify(heads)}; stalled reader got ${stalledLog.events.length} events, then close ${closed.code}`);
    t.diagnostic(`server RSS ${Math.round(baselineRssBytes / MIB)} MiB before, peak ${Math.round(rss.peakBytes / MIB)} MiB`);

    assert.equal(stalledDropped, true, `the stalled reader was dropped as a slow consumer within ${MAX_TRAFFIC_MS} ms`);
    assert.ok(
      closed.code === CLOSE_CODES.slowConsumer || closed.code === 1006,
      `stalled reader close code ${closed.code}: expected 4004, or 1006 when the close frame sat behind the queued data`,
    );
    assert.ok(stalledLog.events.length < heads.r1, `the stalled reader missed messages (${stalledLog.events.length} of ${heads.r1})`);
    assert.deepEqual(
      findDeliveryViolations([stalledLog], group.sends, { complete: false }),
      [],
      'the stalled reader got a gap-free prefix of r1',
    );
    assert.ok(rss.samples > 10, `the server's RSS was sampled during the run (${rss.samples} samples)`);
    assert.ok(
      rss.peakBytes - baselineRssBytes < MAX_SERVER_RSS_GROWTH_BYTES,
      `server RSS grew by ${Math.round((rss.peakBytes - baselineRssBytes) / MIB)} MiB, over the loose bound of ${MAX_SERVER_RSS_GROWTH_BYTES / MIB} MiB`,
    );
    for (const participant of delayed) {
      assert.deepEqual(participant.closeCodes, [], `${participant.name} behind a delay was never disconnected`);
    }
    assert.deepEqual(group.failedSends(), [], 'no app send failed');
    const violations = findDeliveryViolations(group.logs, group.sends);
    assert.deepEqual(violations.slice(0, 20), [], `delivery violations (${violations.length}) for those who stayed`);
  });
});
