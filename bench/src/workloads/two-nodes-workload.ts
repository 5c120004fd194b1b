import type { RunningTarget } from '../targets/running-target.js';
import { CONFAB_CLUSTER, CONFAB_POSTGRES } from '../targets/target-spec.js';
import { connectClients, ONE_ROOM_SETUP_CONCURRENCY, planClients, roomName } from './client-plan.js';
import { measureStep, runSteppedRates, summarizeSteps } from './stepped-rate.js';
import { TargetUnavailableError, type RunContext, type Workload } from './workload.js';

/**
 * W8: the fan-out of W1 with the members split over two nodes that share events over Redis, against
 * the same store on one node. Latency group 1 contains the members on the second node.
 */
export const twoNodesWorkload: Workload = {
  id: 'W8',
  title: 'Two nodes over Redis',
  unit: 'deliveries/s',
  latencyMeaning: 'publisher send to member receipt, at half of the sustained rate',
  targets: [CONFAB_POSTGRES, CONFAB_CLUSTER],
  extraColumns: [
    { key: 'sameNodeP99Ms', label: 'p99 same node', format: 'ms' },
    { key: 'crossNodeP99Ms', label: 'p99 cross node', format: 'ms' },
  ],
  describe: (scale) =>
    `one room of ${scale.twoNodes.members} members (on two nodes: alternating between them, the publisher on ` +
    `node 1), ${scale.twoNodes.publisherRates.join(', ')} msg/s until saturation; both nodes share the server core`,

  async run(context, target) {
    const { members, publisherRates, referenceRate } = context.scale.twoNodes;
    const nodes = target.urls.length;
    if (nodes > 1) {
      await checkCrossNodeDelivery(context, target);
    }

    const room = roomName(context, 'cluster');
    await connectClients(context, target, planClients(context, members, () => room, (index) => index % nodes), ONE_ROOM_SETUP_CONCURRENCY);
    const stepped = await runSteppedRates(context, target, publisherRates, referenceRate, (rate) => ({
      senders: [{ client: 0, room }],
      rate,
      unitsPerMessage: members,
      count: 'deliveries',
      payloadBytes: context.scale.payloadBytes,
    }));
    const metrics = summarizeSteps(stepped, 'deliveries/s');
    metrics.details.sameNodeP99Ms = stepped.halfSaturation?.extra?.group0P99Ms ?? null;
    metrics.details.crossNodeP99Ms = stepped.halfSaturation?.extra?.group1P99Ms ?? null;
    return metrics;
  },
};

/** Throws TargetUnavailableError when a message published on node 1 never reaches node 2. */
async function checkCrossNodeDelivery(context: RunContext, target: RunningTarget): Promise<void> {
  const room = roomName(context, 'probe');
  await connectClients(context, target, planClients(context, 2, () => room, (index) => index));
  const probe = await measureStep(context, target, {
    senders: [{ client: 0, room }],
    rate: 20,
    unitsPerMessage: 2,
    count: 'deliveries',
    payloadBytes: context.scale.payloadBytes,
  });
  await context.fleet.reset();
  if (probe.extra?.group1P99Ms === null || probe.extra?.group1P99Ms === undefined) {
    throw new TargetUnavailableError(
      'messages published on node 1 never reached a member on node 2: this build of Confab does not relay ' +
        'events between nodes over Redis (redisUrl was set on both nodes)',
    );
  }
}
