import { spawnNodeChild } from '../child-processes.js';
import { IpcPeer } from '../ipc-peer.js';
import { LatencyHistogram } from '../latency-histogram.js';
import { nowMicros } from '../monotonic-clock.js';
import type { ClientSpec, ProtocolKind } from './bench-client.js';
import { sleep } from '../monotonic-clock.js';
import type { ConnectResult, LoadResult, ResumeResult, SenderRef, WorkerTotals } from './load-protocol.js';

/** Upper bound on a connect or resume phase, in milliseconds. */
const PHASE_TIMEOUT_MS = 180_000;

/** The location of one client: its worker and its index in that worker. */
interface Placement {
  worker: number;
  local: number;
}

/** Merged outcome of connecting a batch of clients across all workers. */
export interface FleetConnectResult {
  connected: number;
  failed: number;
  latency: LatencyHistogram;
  errors: Record<string, number>;
  firstError: string | undefined;
  durationMs: number;
}

/** Merged outcome of one measurement window across all workers. */
export interface FleetLoadResult {
  deliveries: number;
  latency: LatencyHistogram;
  groupLatency: LatencyHistogram[];
  acks: number;
  ackLatency: LatencyHistogram;
  errors: Record<string, number>;
  /** Messages sent in the whole call, warm-up included. */
  sentTotal: number;
  sentInWindow: number;
  plannedInWindow: number;
  /** CPU the load workers used in the window, as a fraction of one core, summed over workers. */
  loadCpuFraction: number;
  /** Time the busiest worker's event loop waited for a core, as a fraction of the window. */
  loadRunQueueWaitFraction: number;
  windowSeconds: number;
}

export interface FleetResumeResult {
  completed: number;
  failed: number;
  latency: LatencyHistogram;
  firstError: string | undefined;
  durationMs: number;
}

/**
 * The load generator seen from the suite: one or more worker processes with the clients spread
 * round-robin over them. Clients are addressed by a global index in the order they were connected.
 */
export class LoadFleet {
  private placements: Placement[] = [];
  private clientsPerWorker: number[];

  private constructor(private readonly workers: IpcPeer[]) {
    this.clientsPerWorker = workers.map(() => 0);
  }

  static start(workerCount: number, cpuList: string | undefined): LoadFleet {
    const workers = Array.from({ length: workerCount }, (_unused, index) => {
      const child = spawnNodeChild('load/load-worker', { cpuList });
      return new IpcPeer(child, `load worker ${index + 1}`);
    });
    return new LoadFleet(workers);
  }

  get workerPids(): number[] {
    return this.workers.map((worker) => worker.child.pid ?? 0);
  }

  get clientCount(): number {
    return this.placements.length;
  }

  /** Connects clients (authenticate and join), spread over the workers; returns merged counts. */
  async connect(
    protocol: ProtocolKind,
    urls: string[],
    specs: ClientSpec[],
    concurrency: number,
  ): Promise<FleetConnectResult> {
    const batches: ClientSpec[][] = this.workers.map(() => []);
    specs.forEach((spec, index) => {
      const worker = index % this.workers.length;
      batches[worker]?.push(spec);
      this.placements.push({ worker, local: this.clientsPerWorker[worker]! });
      this.clientsPerWorker[worker]! += 1;
    });

    const perWorkerConcurrency = Math.max(1, Math.ceil(concurrency / this.workers.length));
    const results = await Promise.all(
      this.workers.map((worker, index) =>
        worker.request<ConnectResult>(
          'connect',
          { protocol, urls, specs: batches[index], concurrency: perWorkerConcurrency },
          PHASE_TIMEOUT_MS,
        ),
      ),
    );

    const latency = new LatencyHistogram();
    const errors: Record<string, number> = {};
    let started = Number.POSITIVE_INFINITY;
    let finished = 0;
    for (const result of results) {
      latency.merge(result.latency);
      addErrors(errors, result.errors);
      started = Math.min(started, result.startedMicros);
      finished = Math.max(finished, result.finishedMicros);
    }
    return {
      connected: sum(results.map((result) => result.connected)),
      failed: sum(results.map((result) => result.failed)),
      latency,
      errors,
      firstError: results.find((result) => result.firstError !== undefined)?.firstError,
      durationMs: (finished - started) / 1000,
    };
  }

  /**
   * Runs one open-loop window: the senders (global index and room) share `ratePerSecond`, sending
   * starts at `startMicros` and counting covers [windowStartMicros, windowEndMicros).
   */
  async load(
    senders: Array<{ client: number; room: string }>,
    ratePerSecond: number,
    payloadBytes: number,
    times: { startMicros: number; windowStartMicros: number; windowEndMicros: number },
  ): Promise<FleetLoadResult> {
    const perWorker = this.groupSenders(senders);
    const timeoutMs = (times.windowEndMicros - nowMicros()) / 1000 + 30_000;
    const results = await Promise.all(
      this.workers.map((worker, index) => {
        const local = perWorker[index] ?? [];
        const share = senders.length === 0 ? 0 : (ratePerSecond * local.length) / senders.length;
        return worker.request<LoadResult>(
          'load',
          { senders: local, ratePerSecond: share, payloadBytes, ...times },
          timeoutMs,
        );
      }),
    );

    const latency = new LatencyHistogram();
    const ackLatency = new LatencyHistogram();
    const groupLatency: LatencyHistogram[] = [];
    const errors: Record<string, number> = {};
    for (const result of results) {
      latency.merge(result.latency);
      ackLatency.merge(result.ackLatency);
      result.groupLatency.forEach((serialized, group) => {
        groupLatency[group] ??= new LatencyHistogram();
        groupLatency[group].merge(serialized);
      });
      addErrors(errors, result.errors);
    }
    const windowMicros = times.windowEndMicros - times.windowStartMicros;
    return {
      deliveries: sum(results.map((result) => result.deliveries)),
      latency,
      groupLatency,
      acks: sum(results.map((result) => result.acks)),
      ackLatency,
      errors,
      sentTotal: sum(results.map((result) => result.sentTotal)),
      sentInWindow: sum(results.map((result) => result.sentInWindow)),
      plannedInWindow: sum(results.map((result) => result.plannedInWindow)),
      loadCpuFraction: sum(results.map((result) => result.cpuMicros)) / windowMicros,
      loadRunQueueWaitFraction: Math.max(0, ...results.map((result) => result.runQueueWaitMicros)) / windowMicros,
      windowSeconds: windowMicros / 1e6,
    };
  }

  /** Sends `perSender` messages from each sender at `ratePerSecond` in all; optionally waits for acks. */
  async sendCounted(
    senders: Array<{ client: number; room: string }>,
    perSender: number,
    ratePerSecond: number,
    payloadBytes: number,
    awaitAcks: boolean,
  ): Promise<{ sent: number; acked: number }> {
    const perWorker = this.groupSenders(senders);
    const expectedSeconds = (senders.length * perSender) / ratePerSecond;
    const timeoutMs = expectedSeconds * 1000 + 30_000;
    const results = await Promise.all(
      this.workers.map((worker, index) => {
        const local = perWorker[index] ?? [];
        const share = senders.length === 0 ? 1 : Math.max(1, (ratePerSecond * local.length) / senders.length);
        return worker.request<{ sent: number; acked: number }>(
          'sendCounted',
          { senders: local, perSender, ratePerSecond: share, payloadBytes, awaitAcks, timeoutMs: timeoutMs - 5000 },
          timeoutMs,
        );
      }),
    );
    return { sent: sum(results.map((result) => result.sent)), acked: sum(results.map((result) => result.acked)) };
  }

  /** Returns the deliveries and acknowledgements counted by all workers since they started. */
  async totals(): Promise<WorkerTotals> {
    const results = await Promise.all(this.workers.map((worker) => worker.request<WorkerTotals>('totals', undefined, 10_000)));
    return {
      deliveries: sum(results.map((result) => result.deliveries)),
      acks: sum(results.map((result) => result.acks)),
    };
  }

  /**
   * Waits until the totals reach `expected`, so that the backlog of one step does not leak into the
   * next. Gives up when nothing arrived for `stallMs` (a dropped client never catches up) or after
   * `timeoutMs`; returns whether the totals were reached.
   */
  async drain(expected: WorkerTotals, stallMs: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let last = await this.totals();
    let lastProgress = Date.now();
    while (last.deliveries < expected.deliveries || last.acks < expected.acks) {
      if (Date.now() > deadline || Date.now() - lastProgress > stallMs) {
        return false;
      }
      await sleep(50);
      const now = await this.totals();
      if (now.deliveries !== last.deliveries || now.acks !== last.acks) {
        lastProgress = Date.now();
      }
      last = now;
    }
    return true;
  }

  /** Waits until no delivery has arrived for `quietMs` in any worker, up to `timeoutMs`. */
  async settle(quietMs: number, timeoutMs: number): Promise<boolean> {
    const results = await Promise.all(
      this.workers.map((worker) =>
        worker.request<{ quiet: boolean }>('settle', { quietMs, timeoutMs }, timeoutMs + 5000),
      ),
    );
    return results.every((result) => result.quiet);
  }

  async pause(clients: number[]): Promise<void> {
    await this.forEachWorker('pause', clients);
  }

  async unpause(clients: number[]): Promise<void> {
    await this.forEachWorker('unpause', clients);
  }

  async disconnect(clients: number[]): Promise<void> {
    await this.forEachWorker('disconnect', clients);
  }

  /** Counts the close codes of the given clients; `open` counts those still open. */
  async closeCodeCounts(clients: number[]): Promise<Record<string, number>> {
    const results = await this.forEachWorker<Array<number | null>>('closeCodes', clients);
    const counts: Record<string, number> = {};
    for (const code of results.flat()) {
      const key = code === null ? 'open' : String(code);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  /** Reconnects Confab clients with their cursor and waits for `expectedEvents` each. */
  async resume(
    clients: number[],
    urls: string[],
    expectedEvents: number,
    concurrency: number,
    timeoutMs: number,
  ): Promise<FleetResumeResult> {
    const grouped = this.groupClients(clients);
    const perWorkerConcurrency = Math.max(1, Math.ceil(concurrency / this.workers.length));
    const results = await Promise.all(
      this.workers.map((worker, index) =>
        worker.request<ResumeResult>(
          'resume',
          { locals: grouped[index] ?? [], urls, expectedEvents, concurrency: perWorkerConcurrency, timeoutMs },
          PHASE_TIMEOUT_MS,
        ),
      ),
    );
    const latency = new LatencyHistogram();
    let started = Number.POSITIVE_INFINITY;
    let finished = 0;
    for (const result of results) {
      latency.merge(result.latency);
      started = Math.min(started, result.startedMicros);
      finished = Math.max(finished, result.finishedMicros);
    }
    return {
      completed: sum(results.map((result) => result.completed)),
      failed: sum(results.map((result) => result.failed)),
      latency,
      firstError: results.find((result) => result.firstError !== undefined)?.firstError,
      durationMs: (finished - started) / 1000,
    };
  }

  /** Closes every client and forgets them; the workers stay up for the next run. */
  async reset(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.request('reset', undefined, 30_000)));
    this.placements = [];
    this.clientsPerWorker = this.workers.map(() => 0);
  }

  stop(): void {
    for (const worker of this.workers) {
      worker.child.kill('SIGKILL');
    }
  }

  private groupSenders(senders: Array<{ client: number; room: string }>): SenderRef[][] {
    const grouped: SenderRef[][] = this.workers.map(() => []);
    for (const sender of senders) {
      const placement = this.placementOf(sender.client);
      grouped[placement.worker]?.push({ local: placement.local, room: sender.room });
    }
    return grouped;
  }

  private groupClients(clients: number[]): number[][] {
    const grouped: number[][] = this.workers.map(() => []);
    for (const client of clients) {
      const placement = this.placementOf(client);
      grouped[placement.worker]?.push(placement.local);
    }
    return grouped;
  }

  private placementOf(client: number): Placement {
    const placement = this.placements[client];
    if (placement === undefined) {
      throw new Error(`no client with index ${client}; ${this.placements.length} are connected`);
    }
    return placement;
  }

  private async forEachWorker<T>(type: string, clients: number[]): Promise<T[]> {
    const grouped = this.groupClients(clients);
    return Promise.all(
      this.workers.map((worker, index) => worker.request<T>(type, { locals: grouped[index] ?? [] }, 30_000)),
    );
  }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function addErrors(into: Record<string, number>, from: Record<string, number>): void {
  for (const [code, count] of Object.entries(from)) {
    into[code] = (into[code] ?? 0) + count;
  }
}
