/**
 * A load-generator process: it keeps thousands of WebSocket clients open, sends on a schedule, and
 * counts what arrives. The suite drives it over IPC (see load-protocol.ts) and may run several.
 */
import { serveParentRequests } from '../ipc-peer.js';
import { readRunQueueWaitMicros } from '../process-stats.js';
import { LatencyHistogram } from '../latency-histogram.js';
import { nowMicros, sleep, sleepUntilMicros } from '../monotonic-clock.js';
import type { BenchClient, ClientSpec, ProtocolKind } from './bench-client.js';
import { ConfabBenchClient } from './confab-bench-client.js';
import { LoadCounters } from './load-counters.js';
import type {
  ConnectRequest,
  ConnectResult,
  LoadRequest,
  LoadResult,
  ResumeRequest,
  ResumeResult,
  SendCountedRequest,
  SenderRef,
  WorkerTotals,
} from './load-protocol.js';
import { makePayload } from './payload.js';
import { RawBenchClient } from './raw-bench-client.js';
import { SocketIoBenchClient } from './socketio-bench-client.js';

/** Sends made in one turn of the event loop at most, so that reading is never starved. */
const MAX_SENDS_PER_TURN = 500;
/** How often `settle` checks for quiet, in milliseconds. */
const SETTLE_POLL_MS = 20;

const counters = new LoadCounters();
let clients: BenchClient[] = [];

function createClient(protocol: ProtocolKind, spec: ClientSpec): BenchClient {
  switch (protocol) {
    case 'confab':
      return new ConfabBenchClient(spec, counters);
    case 'raw':
      return new RawBenchClient(spec, counters);
    case 'socketio':
      return new SocketIoBenchClient(spec, counters);
  }
}

/** Runs `task` for each item with at most `concurrency` under way at once. */
async function forEachLimited<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  });
  await Promise.all(runners);
}

function clientAt(local: number): BenchClient {
  const client = clients[local];
  if (client === undefined) {
    throw new Error(`client index ${local} not found: the worker has ${clients.length} clients`);
  }
  return client;
}

async function connect(request: ConnectRequest): Promise<ConnectResult> {
  const created = request.specs.map((spec) => createClient(request.protocol, spec));
  clients.push(...created);
  const latency = new LatencyHistogram();
  const errorsBefore = { ...counters.errors };
  let connected = 0;
  let failed = 0;
  let firstError: string | undefined;

  const startedMicros = nowMicros();
  await forEachLimited(created, request.concurrency, async (client) => {
    const url = request.urls[client.spec.urlIndex] ?? request.urls[0] ?? '';
    const openedMicros = nowMicros();
    try {
      await client.connect(url);
      latency.record(nowMicros() - openedMicros);
      connected++;
    } catch (error) {
      failed++;
      counters.recordError('connect-failed');
      firstError ??= error instanceof Error ? error.message : String(error);
    }
  });

  return {
    connected,
    failed,
    latency: latency.toJSON(),
    errors: subtractErrors(counters.errors, errorsBefore),
    firstError,
    startedMicros,
    finishedMicros: nowMicros(),
  };
}

function subtractErrors(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const difference: Record<string, number> = {};
  for (const [code, count] of Object.entries(after)) {
    const extra = count - (before[code] ?? 0);
    if (extra > 0) {
      difference[code] = extra;
    }
  }
  return difference;
}

/**
 * Sends at a fixed rate, open loop: the n-th message is due at start + n / rate whatever the
 * server does, so a slow server shows up as latency and lost throughput rather than as a slower
 * sender. Resolves at the end of the window.
 */
async function sendOnSchedule(
  senders: SenderRef[],
  ratePerSecond: number,
  payloadBytes: number,
  startMicros: number,
  endMicros: number,
  onSend: (sentMicros: number) => void,
  maxSends = Number.POSITIVE_INFINITY,
): Promise<void> {
  const resolved = senders.map((sender) => ({ client: clientAt(sender.local), room: sender.room }));
  await sleepUntilMicros(startMicros);
  if (resolved.length === 0 || ratePerSecond <= 0) {
    await sleepUntilMicros(endMicros);
    return;
  }

  const intervalMicros = 1e6 / ratePerSecond;
  let sent = 0;
  for (;;) {
    const now = nowMicros();
    if (now >= endMicros || sent >= maxSends) {
      return;
    }
    const due = Math.min(maxSends, Math.floor((now - startMicros) / intervalMicros) + 1);
    let sentThisTurn = 0;
    while (sent < due && sentThisTurn < MAX_SENDS_PER_TURN) {
      const sender = resolved[sent % resolved.length];
      if (sender !== undefined && sender.client.isOpen) {
        const sendMicros = nowMicros();
        sender.client.send(sender.room, makePayload(payloadBytes), sendMicros);
        onSend(sendMicros);
      }
      sent++;
      sentThisTurn++;
    }
    if (sent < due) {
      await new Promise((resolve) => setImmediate(resolve));
    } else {
      const nextDueMicros = startMicros + sent * intervalMicros;
      await sleep(Math.max(1, (nextDueMicros - nowMicros()) / 1000));
    }
  }
}

async function runLoad(request: LoadRequest): Promise<LoadResult> {
  counters.openWindow(request.windowStartMicros, request.windowEndMicros);
  let sentTotal = 0;
  let sentInWindow = 0;
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let cpuAtEnd: NodeJS.CpuUsage | undefined;
  let waitAtStart = 0;
  let waitAtEnd = 0;
  const startTimer = setTimeout(() => {
    cpuAtStart = process.cpuUsage();
    waitAtStart = readRunQueueWaitMicros('self');
  }, Math.max(0, (request.windowStartMicros - nowMicros()) / 1000));
  const endTimer = setTimeout(() => {
    cpuAtEnd = process.cpuUsage();
    waitAtEnd = readRunQueueWaitMicros('self');
  }, Math.max(0, (request.windowEndMicros - nowMicros()) / 1000));

  await sendOnSchedule(
    request.senders,
    request.ratePerSecond,
    request.payloadBytes,
    request.startMicros,
    request.windowEndMicros,
    (sentMicros) => {
      sentTotal++;
      if (sentMicros >= request.windowStartMicros) {
        sentInWindow++;
      }
    },
  );
  await sleepUntilMicros(request.windowEndMicros + 2000);
  clearTimeout(startTimer);
  clearTimeout(endTimer);

  const start = cpuAtStart ?? process.cpuUsage();
  const end = cpuAtEnd ?? process.cpuUsage();
  const windowMicros = request.windowEndMicros - request.windowStartMicros;
  return {
    ...counters.snapshot(),
    sentTotal,
    sentInWindow,
    plannedInWindow: request.senders.length === 0 ? 0 : (request.ratePerSecond * windowMicros) / 1e6,
    cpuMicros: end.user + end.system - (start.user + start.system),
    runQueueWaitMicros: Math.max(0, waitAtEnd - waitAtStart),
    windowMicros,
  };
}

async function sendCounted(request: SendCountedRequest): Promise<{ sent: number; acked: number }> {
  const total = request.senders.length * request.perSender;
  const acksBefore = counters.totalAcks;
  const deadline = Date.now() + request.timeoutMs;
  let sent = 0;

  // Bounded by count, not time, so that every sender sends exactly `perSender` messages.
  const deadlineMicros = nowMicros() + request.timeoutMs * 1000;
  await sendOnSchedule(
    request.senders,
    request.ratePerSecond,
    request.payloadBytes,
    nowMicros() + 1000,
    deadlineMicros,
    () => {
      sent++;
    },
    total,
  );
  if (!request.awaitAcks) {
    return { sent, acked: 0 };
  }
  while (counters.totalAcks - acksBefore < sent && Date.now() < deadline) {
    await sleep(10);
  }
  return { sent, acked: counters.totalAcks - acksBefore };
}

async function settle(request: { quietMs: number; timeoutMs: number }): Promise<{ quiet: boolean }> {
  const deadline = Date.now() + request.timeoutMs;
  while (Date.now() < deadline) {
    if (nowMicros() - counters.lastDeliveryMicros >= request.quietMs * 1000) {
      return { quiet: true };
    }
    await sleep(SETTLE_POLL_MS);
  }
  return { quiet: false };
}

async function resume(request: ResumeRequest): Promise<ResumeResult> {
  const latency = new LatencyHistogram();
  let completed = 0;
  let failed = 0;
  let firstError: string | undefined;
  const startedMicros = nowMicros();

  await forEachLimited(request.locals, request.concurrency, async (local) => {
    const client = clientAt(local);
    if (!(client instanceof ConfabBenchClient) || client.epoch === undefined) {
      throw new Error('resume needs Confab clients that have connected once');
    }
    const url = request.urls[client.spec.urlIndex] ?? request.urls[0] ?? '';
    const openedMicros = nowMicros();
    try {
      await client.connect(url, { since: client.lastSeq, epoch: client.epoch });
      await client.waitForDeliveries(request.expectedEvents, request.timeoutMs);
      latency.record(nowMicros() - openedMicros);
      completed++;
    } catch (error) {
      failed++;
      counters.recordError('resume-failed');
      firstError ??= error instanceof Error ? error.message : String(error);
    }
  });

  return { completed, failed, latency: latency.toJSON(), firstError, startedMicros, finishedMicros: nowMicros() };
}

serveParentRequests({
  connect: (request: ConnectRequest) => connect(request),
  load: (request: LoadRequest) => runLoad(request),
  sendCounted: (request: SendCountedRequest) => sendCounted(request),
  settle: (request: { quietMs: number; timeoutMs: number }) => settle(request),
  pause: (request: { locals: number[] }) => {
    request.locals.forEach((local) => clientAt(local).pauseReading());
  },
  unpause: (request: { locals: number[] }) => {
    request.locals.forEach((local) => clientAt(local).resumeReading());
  },
  disconnect: async (request: { locals: number[] }) => {
    await Promise.all(request.locals.map((local) => clientAt(local).close()));
  },
  resume: (request: ResumeRequest) => resume(request),
  closeCodes: (request: { locals: number[] }) =>
    request.locals.map((local) => clientAt(local).closeCode ?? null),
  errors: () => ({ ...counters.errors }),
  totals: (): WorkerTotals => ({ deliveries: counters.totalDeliveries, acks: counters.totalAcks }),
  reset: async () => {
    const closing = clients;
    clients = [];
    closing.forEach((client) => client.terminate());
    counters.errors = {};
    await sleep(50);
  },
});
