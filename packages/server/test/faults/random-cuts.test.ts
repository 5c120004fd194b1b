import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { findDeliveryViolations } from '../support/delivery-checker.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { sleep, startTestServer } from '../support/test-server.js';
import { ParticipantGroup } from './support/participant-group.js';
import { createSeededRandom, faultSeed } from './support/seeded-random.js';

const TEST_TIMEOUT_MS = 60_000;
const PARTICIPANTS = 12;
const ROOMS = ['r1', 'r2', 'r3'];
/** How long everyone sends while connections are being cut, in milliseconds. */
const TRAFFIC_MS = 12_000;
/** Pause between two sends of one participant, in milliseconds. */
const SEND_INTERVAL_MS = 100;
/** Bounds of the random pause between two cuts, in milliseconds. */
const MIN_CUT_PAUSE_MS = 50;
const MAX_CUT_PAUSE_MS = 300;
/** Most connections cut at one moment. */
const MAX_CUTS_AT_ONCE = 3;
/** Fewer cuts than this would mean the test did not exercise the fault. */
const MIN_CUTS = 20;
const JOIN_TIMEOUT_MS = 10_000;
const SETTLE_TIMEOUT_MS = 30_000;

describe('random connection cuts', { timeout: TEST_TIMEOUT_MS }, () => {
  test('cuts under traffic: delivery intact', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const seed = faultSeed();
    const random = createSeededRandom(seed);
    const replay = `(replay with CONFAB_FAULT_SEED=${seed})`;

    const { server, stop } = await startTestServer({ sendRatePerSecond: 10_000, sendBurst: 10_000 });
    const proxies: TcpProxy[] = [];
    const group = new ParticipantGroup();
    t.after(async () => {
      group.closeAll();
      for (const proxy of proxies) {
        await proxy.close();
      }
      await stop();
    });

    // Each participant reaches the server through a proxy of its own, so that a cut hits one user.
    for (let index = 0; index < PARTICIPANTS; index++) {
      const proxy = await TcpProxy.start(server.port);
      proxies.push(proxy);
      const rooms = [ROOMS[index % ROOMS.length] as string, ROOMS[(index + 1) % ROOMS.length] as string];
      group.add({ name: `user-${index}`, url: proxy.url, rooms });
    }
    group.startAll();
    await group.waitUntilJoined(JOIN_TIMEOUT_MS);

    const cutsOf = new Array<number>(PARTICIPANTS).fill(0);
    const deadline = Date.now() + TRAFFIC_MS;
    const senders = group.participants.map(async (participant, index) => {
      for (let count = 1; Date.now() < deadline; count++) {
        const room = participant.options.rooms[count % participant.options.rooms.length] as string;
        participant.send(room, `${participant.name} #${count}`);
        await sleep(SEND_INTERVAL_MS + index);
      }
    });
    while (Date.now() < deadline) {
      await sleep(MIN_CUT_PAUSE_MS + Math.floor(random() * (MAX_CUT_PAUSE_MS - MIN_CUT_PAUSE_MS)));
      const cutsNow = 1 + Math.floor(random() * MAX_CUTS_AT_ONCE);
      for (let cut = 0; cut < cutsNow; cut++) {
        const index = Math.floor(random() * PARTICIPANTS);
        if ((proxies[index] as TcpProxy).connectionCount > 0) {
          (proxies[index] as TcpProxy).cutAll();
          cutsOf[index] = (cutsOf[index] ?? 0) + 1;
        }
      }
    }
    await Promise.all(senders);
    await group.waitUntilSettled(SETTLE_TIMEOUT_MS);

    const totalCuts = cutsOf.reduce((sum, cuts) => sum + cuts, 0);
    assert.ok(totalCuts >= MIN_CUTS, `at least ${MIN_CUTS} connections were cut, got ${totalCuts} ${replay}`);
    assert.deepEqual(group.failedSends(), [], `no app send failed ${replay}`);
    group.participants.forEach((participant, index) => {
      const cuts = cutsOf[index] ?? 0;
      if (cuts > 0) {
        assert.ok(participant.welcomes >= 2, `${participant.name} was cut ${cuts} times and reconnected (welcomes: ${participant.welcomes}) ${replay}`);
      }
      assert.equal(participant.resetJoins, 0, `${participant.name} never lost its place in the log ${replay}`);
    });
    const resumed = group.participants.reduce((sum, participant) => sum + participant.resumedJoins, 0);
    assert.ok(resumed > 0, `reconnected participants resumed their rooms (resumed joins: ${resumed}) ${replay}`);

    const violations = findDeliveryViolations(group.logs, group.sends);
    assert.deepEqual(violations.slice(0, 20), [], `delivery violations (${violations.length}) ${replay}`);
  });
});
