import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { CLOSE_CODES } from '@confab/protocol';

import { startCliServer, type CliServer } from '../support/cli-process.js';
import { findDeliveryViolations } from '../support/delivery-checker.js';
import { freePort } from '../support/private-redis.js';
import { waitUntil } from '../support/test-cluster.js';
import { sleep } from '../support/test-server.js';
import { stopCliServer } from './support/cli-server-control.js';
import { ParticipantGroup } from './support/participant-group.js';
import { RssSampler } from './support/rss-sampler.js';

const TEST_TIMEOUT_MS = 90_000;
const MIB = 1024 * 1024;
const PARTICIPANTS = 1000;
const ROOM_SIZE = 20;
/** Participants that start connecting together, so that setup does not overflow the accept queue. */
const CONNECT_BATCH = 100;
const CONNECT_BATCH_PAUSE_MS = 100;
/**
 * Reconnect backoff of every participant: full jitter, so the first retry after the 1012 is
 * uniform in [0, 1000) ms, the next in [0, 2000) ms, and so on up to 4 s.
 */
const RECONNECT = { initialDelayMs: 1000, maxDelayMs: 4000, stableAfterMs: 10_000 };
const JOIN_TIMEOUT_MS = 30_000;
const SETTLE_TIMEOUT_MS = 30_000;
const STORM_TIMEOUT_MS = 40_000;
/** Loose bound on the restarted server's RSS while 1,000 clients reconnect and resume. */
const MAX_SERVER_RSS_BYTES = 500 * MIB;

describe('reconnect storm', { timeout: TEST_TIMEOUT_MS }, () => {
  test('1,000 clients after 1012: all resume', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const directory = mkdtempSync(join(tmpdir(), 'confab-storm-'));
    const port = await freePort();
    const args = [
      '--port', String(port),
      '--database', join(directory, 'confab.db'),
      '--log-level', 'warn',
      '--sqlite-synchronous', 'normal',
    ];
    const servers: CliServer[] = [await startCliServer(args)];
    const group = new ParticipantGroup();
    let rss: RssSampler | undefined;
    t.after(async () => {
      rss?.stop();
      group.closeAll();
      for (const server of servers) {
        await stopCliServer(server);
      }
      rmSync(directory, { recursive: true, force: true });
    });

    const url = `ws://127.0.0.1:${port}/ws`;
    const roomCount = PARTICIPANTS / ROOM_SIZE;
    for (let index = 0; index < PARTICIPANTS; index++) {
      group.add({ name: `user-${index}`, url, rooms: [`room-${index % roomCount}`], reconnect: RECONNECT });
    }
    for (let start = 0; start < PARTICIPANTS; start += CONNECT_BATCH) {
      for (const participant of group.participants.slice(start, start + CONNECT_BATCH)) {
        participant.start();
      }
      await sleep(CONNECT_BATCH_PAUSE_MS);
    }
    await group.waitUntilJoined(JOIN_TIMEOUT_MS);

    // Before the restart: two messages in every room.
    const byRoom = (offset: number) => group.participants.slice(offset * roomCount, (offset + 1) * roomCount);
    for (const participant of [...byRoom(0), ...byRoom(1)]) {
      participant.send(participant.options.rooms[0] as string, `${participant.name} before`);
    }
    await group.waitUntilSettled(SETTLE_TIMEOUT_MS);

    // Graceful restart on the same database: every client gets 1012 and reconnects with jitter.
    const stopped = await stopCliServer(servers[0] as CliServer);
    // Messages queued while offline go out from the SDK's outbox after the resume.
    for (const participant of byRoom(2)) {
      participant.send(participant.options.rooms[0] as string, `${participant.name} offline`);
    }
    const restarted = await startCliServer(args);
    servers.push(restarted);
    rss = new RssSampler(restarted.child.pid as number);
    const restartedAt = Date.now();

    await waitUntil(
      'every participant to reconnect and resume',
      () => group.participants.every((participant) => participant.resumedJoins >= 1 && participant.isJoined),
      STORM_TIMEOUT_MS,
    );
    const stormMs = Date.now() - restartedAt;

    // After the storm: one more message in every room.
    for (const participant of byRoom(3)) {
      participant.send(participant.options.rooms[0] as string, `${participant.name} after`);
    }
    await group.waitUntilSettled(SETTLE_TIMEOUT_MS);
    rss.stop();

    const resumed = group.participants.filter((participant) => participant.resumedJoins >= 1).length;
    const firstCloseCodes = new Map<number, number>();
    for (const participant of group.participants) {
      const code = participant.closeCodes[0] ?? 0;
      firstCloseCodes.set(code, (firstCloseCodes.get(code) ?? 0) + 1);
    }
    const attempts = group.participants.reduce((sum, participant) => sum + participant.closeCodes.length, 0);
    t.diagnostic(`all resumed ${stormMs} ms after the restart; ${attempts} connection ends in total`);
    t.diagnostic(`restarted server RSS peak ${Math.round(rss.peakBytes / MIB)} MiB over ${rss.samples} samples`);

    assert.equal(stopped.code, 0, `the first server exited cleanly on SIGTERM (code ${stopped.code}, signal ${stopped.signal})`);
    assert.deepEqual(
      [...firstCloseCodes],
      [[CLOSE_CODES.serviceRestart, PARTICIPANTS]],
      'every participant was closed with 1012 by the restart',
    );
    assert.equal(resumed, PARTICIPANTS, `every participant resumed its room (${resumed} of ${PARTICIPANTS})`);
    assert.equal(
      group.participants.filter((participant) => participant.resetJoins > 0).length,
      0,
      'no participant lost its place in the log',
    );
    assert.deepEqual(group.failedSends(), [], 'no app send failed');
    for (let room = 0; room < roomCount; room++) {
      assert.equal(group.highestAckedSeq(`room-${room}`), 4, `room-${room} holds its four messages`);
    }
    assert.ok(rss.samples > 10, `the server's RSS was sampled during the storm (${rss.samples} samples)`);
    assert.ok(
      rss.peakBytes < MAX_SERVER_RSS_BYTES,
      `restarted server RSS peaked at ${Math.round(rss.peakBytes / MIB)} MiB, over the loose bound of ${MAX_SERVER_RSS_BYTES / MIB} MiB`,
    );
    const violations = findDeliveryViolations(group.logs, group.sends);
    assert.deepEqual(violations.slice(0, 20), [], `delivery violations (${violations.length})`);
  });
});
