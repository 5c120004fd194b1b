import assert from 'node:assert/strict';

import type { RoomEvent } from '@confab/protocol';

import { startCliServer, type CliServer } from '../../support/cli-process.js';
import { assertDelivery } from '../../support/delivery-checker.js';
import { readWholeRoom, seqRange } from '../../support/message-traffic.js';
import { freePort } from '../../support/private-redis.js';
import { TestClient } from '../../support/test-client.js';
import { waitUntil } from '../../support/test-cluster.js';
import { stopCliServer } from './cli-server-control.js';
import { ParticipantGroup } from './participant-group.js';

const PARTICIPANTS = 50;
const ROOMS = 5;
const MESSAGES_PER_PARTICIPANT = 20;
/** Acknowledged sends to wait for before the kill, so that it lands with most sends still to go. */
const ACKS_BEFORE_KILL = 250;
const JOIN_TIMEOUT_MS = 20_000;
const TRAFFIC_TIMEOUT_MS = 20_000;
const SETTLE_TIMEOUT_MS = 40_000;
/** Time the clients spend failing to reconnect before the server comes back, in milliseconds. */
const DOWNTIME_MS = 500;

export interface SigkillScenarioOptions {
  /** CLI flags that choose the store, such as `--database <file>` or `--database-url <url>`. */
  storeArgs: string[];
}

/**
 * Kills a CLI server with SIGKILL while 50 SDK clients send, then restarts it on the same port and
 * store. Checks that every message the clients queued is stored once, and that every member of its
 * room receives it once, in one gap-free order.
 */
export async function runSigkillScenario(options: SigkillScenarioOptions): Promise<void> {
  const port = await freePort();
  const args = [
    '--port', String(port),
    ...options.storeArgs,
    '--log-level', 'warn',
    // High, so that the SDK's retries never wait for a rate limit.
    '--send-rate-per-second', '100000',
    '--send-burst', '100000',
  ];
  const servers: CliServer[] = [];
  const group = new ParticipantGroup();
  try {
    servers.push(await startCliServer(args));
    const url = `ws://127.0.0.1:${port}/ws`;
    const rooms = Array.from({ length: ROOMS }, (_, index) => `room-${index}`);
    for (let index = 0; index < PARTICIPANTS; index++) {
      group.add({ name: `user-${index}`, url, rooms: [rooms[index % ROOMS] as string] });
    }
    group.startAll();
    await group.waitUntilJoined(JOIN_TIMEOUT_MS);

    for (const participant of group.participants) {
      for (let index = 1; index <= MESSAGES_PER_PARTICIPANT; index++) {
        participant.send(participant.options.rooms[0] as string, `${participant.name} #${index}`);
      }
    }
    await waitUntil('acks before the kill', () => group.ackCount >= ACKS_BEFORE_KILL, TRAFFIC_TIMEOUT_MS);

    const crashed = servers[0] as CliServer;
    crashed.child.kill('SIGKILL');
    const exit = await crashed.exited;
    const acksBeforeKill = group.ackCount;
    await new Promise((resolve) => setTimeout(resolve, DOWNTIME_MS));
    const restarted = await startCliServer(args);
    servers.push(restarted);

    await group.waitUntilSettled(SETTLE_TIMEOUT_MS);

    const totalSends = PARTICIPANTS * MESSAGES_PER_PARTICIPANT;
    assert.equal(exit.signal, 'SIGKILL', 'the first server died of SIGKILL');
    assert.ok(acksBeforeKill < totalSends, `the kill landed mid-traffic: ${acksBeforeKill} of ${totalSends} sends were acknowledged before it`);
    assert.deepEqual(group.failedSends(), [], 'no app send failed');
    for (const participant of group.participants) {
      assert.ok(participant.welcomes >= 2, `${participant.name} reconnected after the kill (welcomes: ${participant.welcomes})`);
      assert.equal(participant.resetJoins, 0, `${participant.name} never lost its place in the log`);
    }
    assertDelivery(group.logs, group.sends);

    const reader = await TestClient.guest(restarted.url, 'Reader');
    try {
      for (const room of rooms) {
        assertStoredLog(room, await readWholeRoom(reader, room), group);
      }
    } finally {
      reader.close();
    }
  } finally {
    group.closeAll();
    for (const server of servers) {
      await stopCliServer(server);
    }
  }
}

/** Checks that the room's stored log contains every app send of the room once, in each sender's order. */
function assertStoredLog(room: string, stored: RoomEvent[], group: ParticipantGroup): void {
  const expected = group.participants
    .flatMap((participant) => participant.appSends)
    .filter((send) => send.room === room)
    .map((send) => send.content);
  const contents = stored.map((event) => event.content);

  assert.deepEqual(stored.map((event) => event.seq), seqRange(1, stored.length), `${room}: stored seqs are gap-free from 1`);
  assert.equal(new Set(contents).size, contents.length, `${room}: no message is stored twice`);
  assert.deepEqual([...contents].sort(), [...expected].sort(), `${room}: the stored log holds exactly the messages sent`);

  const bySender = new Map<string, number[]>();
  for (const content of contents) {
    const [sender, number] = content.split(' #');
    const list = bySender.get(sender as string) ?? [];
    list.push(Number(number));
    bySender.set(sender as string, list);
  }
  for (const [sender, numbers] of bySender) {
    assert.deepEqual(numbers, seqRange(1, numbers.length), `${room}: ${sender}'s messages are stored in the order sent`);
  }
}
