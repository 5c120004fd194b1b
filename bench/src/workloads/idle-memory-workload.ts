import { openFileLimit } from '../child-processes.js';
import { sleep } from '../monotonic-clock.js';
import {
  CONFAB_MEMORY,
  CONFAB_POSTGRES,
  CONFAB_SQLITE_FULL,
  CONFAB_SQLITE_NORMAL,
  RAW_WS,
  SOCKET_IO,
} from '../targets/target-spec.js';
import { connectClients, countErrors, planClients, roomName } from './client-plan.js';
import { emptyMetrics, type Workload } from './workload.js';

/** Open files a process keeps for itself besides client sockets (IPC, stdio, database, timers). */
const RESERVED_FILES = 200;

/** W4: resident memory per idle connection, each authenticated and joined to one room. */
export const idleMemoryWorkload: Workload = {
  id: 'W4',
  title: 'Idle memory',
  unit: 'connections/s',
  latencyMeaning: 'socket open to room joined, per connection',
  extraColumns: [
    { key: 'connections', label: 'connections', format: 'count' },
    { key: 'rssPerConnectionBytes', label: 'RSS per connection', format: 'bytes' },
    { key: 'idleCpuFraction', label: 'idle CPU', format: 'percent' },
  ],
  targets: [RAW_WS, SOCKET_IO, CONFAB_MEMORY, CONFAB_SQLITE_FULL, CONFAB_SQLITE_NORMAL, CONFAB_POSTGRES],
  describe: (scale) =>
    `${scale.idleMemory.connections} idle connections in rooms of ${scale.idleMemory.roomSize}; ` +
    'resident memory after a full GC, minus the same before connecting, divided by the connections',

  async run(context, target) {
    const { roomSize, idleHoldMs } = context.scale.idleMemory;
    const metrics = emptyMetrics();
    // The server keeps one socket per connection, and so does the load generator, split over workers.
    const fileLimit = openFileLimit() - RESERVED_FILES;
    const connections = Math.min(context.scale.idleMemory.connections, fileLimit);
    if (connections < context.scale.idleMemory.connections) {
      metrics.notes.push(`open-file limit ${fileLimit + RESERVED_FILES} caps the run at ${connections} connections`);
    }

    await target.collectGarbage();
    await sleep(300);
    const baseline = target.sample();

    const specs = planClients(context, connections, (index) => roomName(context, Math.floor(index / roomSize)));
    const result = await connectClients(context, target, specs);
    const idleStart = target.sample();
    await sleep(idleHoldMs);
    const idleEnd = target.sample();
    await target.collectGarbage();
    await sleep(300);
    const loaded = target.sample();

    metrics.perSecond = result.connected / (result.durationMs / 1000);
    metrics.rssBytes = loaded.rssBytes;
    metrics.p50Ms = result.latency.percentileMs(0.5) ?? null;
    metrics.p99Ms = result.latency.percentileMs(0.99) ?? null;
    metrics.errors = countErrors(result.errors);
    metrics.details = {
      connections: result.connected,
      baselineRssBytes: baseline.rssBytes,
      rssPerConnectionBytes: result.connected > 0 ? (loaded.rssBytes - baseline.rssBytes) / result.connected : null,
      idleCpuFraction: (idleEnd.cpuMicros - idleStart.cpuMicros) / (idleHoldMs * 1000),
    };
    return metrics;
  },
};
