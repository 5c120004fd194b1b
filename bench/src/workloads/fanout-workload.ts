import {
  CONFAB_MEMORY,
  CONFAB_POSTGRES,
  CONFAB_SQLITE_FULL,
  CONFAB_SQLITE_NORMAL,
  RAW_WS,
  SOCKET_IO,
} from '../targets/target-spec.js';
import { connectClients, ONE_ROOM_SETUP_CONCURRENCY, planClients, roomName } from './client-plan.js';
import { runSteppedRates, summarizeSteps } from './stepped-rate.js';
import type { Workload } from './workload.js';

/** W1: one room, one publisher, every member receives every message; the rate steps up to saturation. */
export const fanoutWorkload: Workload = {
  id: 'W1',
  title: 'Fan-out',
  unit: 'deliveries/s',
  latencyMeaning: 'publisher send to member receipt, at half of the sustained rate',
  targets: [RAW_WS, SOCKET_IO, CONFAB_MEMORY, CONFAB_SQLITE_FULL, CONFAB_SQLITE_NORMAL, CONFAB_POSTGRES],
  describe: (scale) =>
    `one room of ${scale.fanout.members} members, one of them publishing ${scale.payloadBytes}-byte messages ` +
    `at ${scale.fanout.publisherRates.join(', ')} msg/s until saturation; CPU per delivery at ${scale.fanout.referenceRate} msg/s`,

  async run(context, target) {
    const { members, publisherRates, referenceRate } = context.scale.fanout;
    const room = roomName(context, 'fanout');
    await connectClients(context, target, planClients(context, members, () => room), ONE_ROOM_SETUP_CONCURRENCY);

    const stepped = await runSteppedRates(context, target, publisherRates, referenceRate, (rate) => ({
      senders: [{ client: 0, room }],
      rate,
      unitsPerMessage: members,
      count: 'deliveries',
      payloadBytes: context.scale.payloadBytes,
    }));
    return summarizeSteps(stepped, 'deliveries/s');
  },
};
