import {
  CONFAB_MEMORY,
  CONFAB_POSTGRES,
  CONFAB_SQLITE_FULL,
  CONFAB_SQLITE_NORMAL,
  RAW_WS,
  SOCKET_IO,
} from '../targets/target-spec.js';
import { connectClients, planClients, roomName } from './client-plan.js';
import { runSteppedRates, summarizeSteps } from './stepped-rate.js';
import type { Workload } from './workload.js';

/** W2: many small rooms, every member sending in turn; the total rate steps up to saturation. */
export const manyRoomsWorkload: Workload = {
  id: 'W2',
  title: 'Many rooms',
  unit: 'deliveries/s',
  latencyMeaning: 'sender to member receipt, at half of the sustained rate',
  targets: [RAW_WS, SOCKET_IO, CONFAB_MEMORY, CONFAB_SQLITE_FULL, CONFAB_SQLITE_NORMAL, CONFAB_POSTGRES],
  describe: (scale) =>
    `${scale.manyRooms.rooms} rooms of ${scale.manyRooms.membersPerRoom} members, every member sending in turn, ` +
    `${scale.manyRooms.sendRates.join(', ')} msg/s in total until saturation`,

  async run(context, target) {
    const { rooms, membersPerRoom, sendRates, referenceRate } = context.scale.manyRooms;
    const roomOf = (index: number): string => roomName(context, Math.floor(index / membersPerRoom));
    const count = rooms * membersPerRoom;
    await connectClients(context, target, planClients(context, count, roomOf));

    // Senders are ordered room by room within each round, so consecutive sends hit different rooms.
    const senders = Array.from({ length: count }, (_unused, order) => {
      const client = (order % rooms) * membersPerRoom + Math.floor(order / rooms);
      return { client, room: roomOf(client) };
    });
    const stepped = await runSteppedRates(context, target, sendRates, referenceRate, (rate) => ({
      senders,
      rate,
      unitsPerMessage: membersPerRoom,
      count: 'deliveries',
      payloadBytes: context.scale.payloadBytes,
    }));
    return summarizeSteps(stepped, 'deliveries/s');
  },
};
