import { sleep } from '../monotonic-clock.js';
import {
  CONFAB_MEMORY,
  CONFAB_POSTGRES,
  CONFAB_SQLITE_FULL,
  CONFAB_SQLITE_NORMAL,
  RAW_WS,
  SOCKET_IO,
} from '../targets/target-spec.js';
import { connectClients, planClients, roomName } from './client-plan.js';
import { emptyMetrics, type Workload } from './workload.js';

/** W3: connections open, authenticate and join as fast as the load generator can start them. */
export const connectStormWorkload: Workload = {
  id: 'W3',
  title: 'Connect storm',
  unit: 'connections/s',
  latencyMeaning: 'socket open to room joined, per connection',
  targets: [RAW_WS, SOCKET_IO, CONFAB_MEMORY, CONFAB_SQLITE_FULL, CONFAB_SQLITE_NORMAL, CONFAB_POSTGRES],
  describe: (scale) =>
    `${scale.connectStorm.connections} connections authenticating (Confab: HS256 JWT) and joining rooms of ` +
    `${scale.connectStorm.roomSize}, ${scale.connectStorm.concurrency} handshakes under way at once`,

  async run(context, target) {
    const { connections, concurrency, roomSize } = context.scale.connectStorm;
    // A tenth of the storm, connected and dropped first, warms up the code paths on both sides.
    const warmupCount = Math.min(100, Math.ceil(connections / 10));
    await connectClients(
      context,
      target,
      planClients(context, warmupCount, (index) => roomName(context, `warmup${Math.floor(index / roomSize)}`)),
      concurrency,
    );
    await context.fleet.reset();

    const specs = planClients(context, connections, (index) => roomName(context, Math.floor(index / roomSize)));
    await target.collectGarbage();
    await sleep(200);

    // Failed handshakes are part of what a storm measures, so they are counted, not fatal.
    const before = target.sample();
    const result = await context.fleet.connect(target.spec.protocol, target.urls, specs, concurrency);
    const after = target.sample();

    const metrics = emptyMetrics();
    const seconds = result.durationMs / 1000;
    metrics.perSecond = result.connected / seconds;
    metrics.cpuMicrosPerUnit = result.connected > 0 ? (after.cpuMicros - before.cpuMicros) / result.connected : null;
    metrics.p50Ms = result.latency.percentileMs(0.5) ?? null;
    metrics.p99Ms = result.latency.percentileMs(0.99) ?? null;
    metrics.rssBytes = after.rssBytes;
    // Each failed handshake also counts its close code, so the failures alone are the error count.
    metrics.errors = result.failed;
    if (result.firstError !== undefined) {
      metrics.notes.push(`first failure: ${result.firstError}`);
    }
    metrics.serverSaturated = (after.cpuMicros - before.cpuMicros) / (seconds * 1e6) >= 0.9;
    metrics.contended = (after.runQueueWaitMicros - before.runQueueWaitMicros) / (seconds * 1e6) >= 0.2;
    metrics.details = {
      connected: result.connected,
      failed: result.failed,
      durationMs: Math.round(result.durationMs),
      serverCpuFraction: (after.cpuMicros - before.cpuMicros) / (seconds * 1e6),
      errorCodes: Object.entries(result.errors)
        .map(([code, count]) => `${code}×${count}`)
        .join(' '),
    };
    if (!target.spec.confab) {
      metrics.notes.push('no token check: the baseline accepts every handshake');
    }
    return metrics;
  },
};
