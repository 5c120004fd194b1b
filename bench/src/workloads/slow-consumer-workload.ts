import { nowMicros, sleep } from '../monotonic-clock.js';
import { CONFAB_SQLITE_FULL, RAW_WS, SOCKET_IO } from '../targets/target-spec.js';
import { connectClients, ONE_ROOM_SETUP_CONCURRENCY, countErrors, planClients, roomName } from './client-plan.js';
import { emptyMetrics, type Workload } from './workload.js';

/** How often the server's memory is read during the run, in milliseconds. */
const MEMORY_SAMPLE_INTERVAL_MS = 250;
/** Time the slow readers get to read what is queued and see a close, after they resume. */
const AFTER_RESUME_MS = 1500;

/** W7: 1% of a room's members stop reading while the others keep receiving. */
export const slowConsumerWorkload: Workload = {
  id: 'W7',
  title: 'Slow consumer',
  unit: 'deliveries/s to the readers',
  latencyMeaning: 'send to receipt for the members that keep reading',
  targets: [RAW_WS, SOCKET_IO, CONFAB_SQLITE_FULL],
  extraColumns: [
    { key: 'rssGrowthBytes', label: 'RSS growth', format: 'bytes' },
    { key: 'slowClosedByServer', label: 'slow readers closed', format: 'count' },
    { key: 'slowCloseCodes', label: 'their close codes', format: 'text' },
  ],
  describe: (scale) =>
    `one room of ${scale.slowConsumer.members} members, ${Math.max(1, Math.round(scale.slowConsumer.members * scale.slowConsumer.slowFraction))} of them ` +
    `stop reading; ${scale.slowConsumer.publisherRate} msg/s of ${scale.slowConsumer.payloadBytes} bytes for ` +
    `${scale.slowConsumer.durationMs / 1000} s`,

  async run(context, target) {
    const { members, slowFraction, publisherRate, payloadBytes, durationMs } = context.scale.slowConsumer;
    const { fleet, scale } = context;
    const slowCount = Math.max(1, Math.round(members * slowFraction));
    const room = roomName(context, 'slow');
    await connectClients(context, target, planClients(context, members, () => room), ONE_ROOM_SETUP_CONCURRENCY);

    const slow = Array.from({ length: slowCount }, (_unused, index) => index);
    const publisher = members - 1;
    await target.collectGarbage();
    await sleep(200);
    const baseline = target.sample();
    await fleet.pause(slow);

    const startMicros = nowMicros() + 50_000;
    const windowStartMicros = startMicros + scale.warmupMs * 1000;
    const windowEndMicros = windowStartMicros + durationMs * 1000;
    const loading = fleet.load([{ client: publisher, room }], publisherRate, payloadBytes, {
      startMicros,
      windowStartMicros,
      windowEndMicros,
    });
    loading.catch(() => {});
    let peakRssBytes = baseline.rssBytes;
    let cpuAtStart: number | undefined;
    while (nowMicros() < windowEndMicros) {
      const sample = target.sample();
      peakRssBytes = Math.max(peakRssBytes, sample.rssBytes);
      if (cpuAtStart === undefined && nowMicros() >= windowStartMicros) {
        cpuAtStart = sample.cpuMicros;
      }
      await sleep(MEMORY_SAMPLE_INTERVAL_MS);
    }
    const end = target.sample();
    peakRssBytes = Math.max(peakRssBytes, end.rssBytes);
    const result = await loading;

    await fleet.unpause(slow);
    await sleep(AFTER_RESUME_MS);
    const closeCodes = await fleet.closeCodeCounts(slow);
    await fleet.settle(200, 5000);

    const readers = members - slowCount;
    const metrics = emptyMetrics();
    metrics.perSecond = result.deliveries / result.windowSeconds;
    metrics.cpuMicrosPerUnit =
      cpuAtStart === undefined || result.deliveries === 0 ? null : (end.cpuMicros - cpuAtStart) / result.deliveries;
    metrics.p50Ms = result.latency.percentileMs(0.5) ?? null;
    metrics.p99Ms = result.latency.percentileMs(0.99) ?? null;
    metrics.rssBytes = peakRssBytes;
    metrics.errors = countErrors(result.errors);
    metrics.details = {
      offeredToReaders: publisherRate * readers,
      rssBaselineBytes: baseline.rssBytes,
      rssGrowthBytes: peakRssBytes - baseline.rssBytes,
      slowClosedByServer: slowCount - (closeCodes.open ?? 0),
      slowCloseCodes: Object.entries(closeCodes)
        .map(([code, count]) => `${code}×${count}`)
        .join(' '),
    };
    if (result.deliveries / result.windowSeconds < publisherRate * readers * 0.9) {
      metrics.notes.push('the readers got less than 90% of the offered rate');
    }
    return metrics;
  },
};
