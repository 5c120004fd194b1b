import { CONFAB_MEMORY, CONFAB_POSTGRES, CONFAB_SQLITE_FULL, CONFAB_SQLITE_NORMAL } from '../targets/target-spec.js';
import { connectClients, planClients, roomName } from './client-plan.js';
import { runSteppedRates, summarizeSteps } from './stepped-rate.js';
import type { Workload } from './workload.js';

/** The p99 send-to-ack bound of the durability goal, in milliseconds. */
export const DURABLE_SEND_P99_GOAL_MS = 10;

/** W6: acknowledged sends, each stored before its `sent` reply; the rate steps up to saturation. */
export const durableSendWorkload: Workload = {
  id: 'W6',
  title: 'Durable send',
  unit: 'acknowledged sends/s',
  latencyMeaning: 'send to `sent` acknowledgement, at half of the sustained rate',
  targets: [CONFAB_MEMORY, CONFAB_SQLITE_FULL, CONFAB_SQLITE_NORMAL, CONFAB_POSTGRES],
  extraColumns: [
    { key: 'maxRateWithinP99Goal', label: `sends/s with p99 < ${DURABLE_SEND_P99_GOAL_MS} ms`, format: 'count' },
    { key: 'p99AtMaxRateWithinGoalMs', label: 'p99 there', format: 'ms', onlyWhenPositive: 'maxRateWithinP99Goal' },
  ],
  describe: (scale) =>
    `${scale.durableSend.senders} senders, each alone in its room, ${scale.durableSend.sendRates.join(', ')} sends/s ` +
    'in total until saturation; a send counts when its `sent` acknowledgement arrives',

  async run(context, target) {
    const { senders: senderCount, sendRates, referenceRate } = context.scale.durableSend;
    const roomOf = (index: number): string => roomName(context, `send${index}`);
    await connectClients(context, target, planClients(context, senderCount, roomOf));

    const senders = Array.from({ length: senderCount }, (_unused, client) => ({ client, room: roomOf(client) }));
    const stepped = await runSteppedRates(context, target, sendRates, referenceRate, (rate) => ({
      senders,
      rate,
      unitsPerMessage: 1,
      count: 'acks',
      payloadBytes: context.scale.payloadBytes,
    }));
    const metrics = summarizeSteps(stepped, 'sends/s');

    const withinGoal = stepped.steps.filter(
      (step) => !step.saturated && step.p99Ms !== null && step.p99Ms < DURABLE_SEND_P99_GOAL_MS,
    );
    const best = withinGoal[withinGoal.length - 1];
    metrics.details.maxRateWithinP99Goal = best?.achievedPerSecond ?? 0;
    metrics.details.p99AtMaxRateWithinGoalMs = best?.p99Ms ?? null;
    return metrics;
  },
};
