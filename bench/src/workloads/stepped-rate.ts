import { nowMicros, sleepUntilMicros } from '../monotonic-clock.js';
import type { RunningTarget } from '../targets/running-target.js';
import { countErrors } from './client-plan.js';
import { emptyMetrics, type Metrics, type RunContext, type StepMetrics } from './workload.js';

/** Delivered share of the offered rate below which a step counts as saturated. */
export const SATURATION_DELIVERED_FRACTION = 0.9;
/**
 * p99 latency above which a step counts as saturated even when the delivered share is enough, in
 * milliseconds: queues are growing. It is set well above the scheduling stalls of a few hundred
 * milliseconds that other processes on a shared machine cause.
 */
export const SATURATION_P99_MS = 2000;
/** Share of a core above which a process counts as busy. */
export const BUSY_CORE_FRACTION = 0.9;
/** Share of a window spent waiting for a core above which a step counts as contended. */
export const CONTENDED_WAIT_FRACTION = 0.2;
/** Lead time before sending starts, so that every worker has the request, in microseconds. */
const START_LEAD_MICROS = 50_000;
/** The drain after a step stops when nothing arrives for this long, in milliseconds. */
const DRAIN_STALL_MS = 1500;
/** Bound on the drain after a step, in milliseconds. */
const DRAIN_TIMEOUT_MS = 30_000;

export interface StepPlan {
  senders: Array<{ client: number; room: string }>;
  /** Messages per second from all senders together. */
  rate: number;
  /** Deliveries (or acks) each message should produce. */
  unitsPerMessage: number;
  /** The unit counted: events delivered to members, or acknowledgements of sends. */
  count: 'deliveries' | 'acks';
  payloadBytes: number;
}

/**
 * Runs one open-loop step: warm-up, then a window in which the load workers count and the suite
 * reads the server's CPU time and memory at both edges, then a drain until deliveries stop.
 */
export async function measureStep(context: RunContext, target: RunningTarget, plan: StepPlan): Promise<StepMetrics> {
  const { scale, fleet } = context;
  const totalsBefore = await fleet.totals();
  const startMicros = nowMicros() + START_LEAD_MICROS;
  const windowStartMicros = startMicros + scale.warmupMs * 1000;
  const windowEndMicros = windowStartMicros + scale.stepMs * 1000;

  const loading = fleet.load(plan.senders, plan.rate, plan.payloadBytes, { startMicros, windowStartMicros, windowEndMicros });
  // Reading /proc below throws if the server died; the load's own failure is then reported there.
  loading.catch(() => {});
  await sleepUntilMicros(windowStartMicros);
  const before = target.sample();
  await sleepUntilMicros(windowEndMicros);
  const after = target.sample();
  const result = await loading;
  const perMessage = plan.count === 'acks' ? { deliveries: 1, acks: 1 } : { deliveries: plan.unitsPerMessage, acks: 0 };
  const drained = await fleet.drain(
    {
      deliveries: totalsBefore.deliveries + result.sentTotal * perMessage.deliveries,
      acks: totalsBefore.acks + result.sentTotal * perMessage.acks,
    },
    DRAIN_STALL_MS,
    DRAIN_TIMEOUT_MS,
  );

  const seconds = result.windowSeconds;
  const units = plan.count === 'acks' ? result.acks : result.deliveries;
  const latency = plan.count === 'acks' ? result.ackLatency : result.latency;
  const offeredPerSecond = plan.rate * plan.unitsPerMessage;
  const achievedPerSecond = units / seconds;
  const serverCpuMicros = after.cpuMicros - before.cpuMicros;
  const serverCpuFraction = serverCpuMicros / (seconds * 1e6);
  const p99Ms = latency.percentileMs(0.99) ?? null;

  const shortfall = achievedPerSecond < offeredPerSecond * SATURATION_DELIVERED_FRACTION;
  const saturated = shortfall || (p99Ms !== null && p99Ms > SATURATION_P99_MS);
  // Two messages of slack absorb the rounding at the window's edges at low rates.
  const senderFellBehind = result.sentInWindow < result.plannedInWindow * 0.95 - 2;
  const loadGeneratorBound =
    result.loadCpuFraction >= BUSY_CORE_FRACTION * context.loadCores || (saturated && senderFellBehind);
  const serverBusy = serverCpuFraction >= BUSY_CORE_FRACTION * target.pids.length;
  const serverWaitFraction = (after.runQueueWaitMicros - before.runQueueWaitMicros) / (seconds * 1e6) / target.pids.length;

  return {
    offeredRate: plan.rate,
    offeredPerSecond,
    achievedPerSecond,
    p50Ms: latency.percentileMs(0.5) ?? null,
    p99Ms,
    serverCpuFraction,
    cpuMicrosPerUnit: units > 0 ? serverCpuMicros / units : null,
    loadCpuFraction: result.loadCpuFraction,
    serverWaitFraction,
    loadWaitFraction: result.loadRunQueueWaitFraction,
    rssBytes: after.rssBytes,
    errors: countErrors(result.errors),
    saturated,
    loadGeneratorBound,
    shortfallUnexplained: saturated && !loadGeneratorBound && !serverBusy,
    contended:
      serverWaitFraction >= CONTENDED_WAIT_FRACTION || result.loadRunQueueWaitFraction >= CONTENDED_WAIT_FRACTION,
    drained,
    extra: Object.fromEntries(
      result.groupLatency.map((histogram, group) => [`group${group}P99Ms`, histogram.percentileMs(0.99) ?? null]),
    ),
  };
}

/** The outcome of a stepped run: every step, the highest one sustained, and one at half of it. */
export interface SteppedResult {
  steps: StepMetrics[];
  sustained: StepMetrics | undefined;
  reference: StepMetrics | undefined;
  halfSaturation: StepMetrics | undefined;
  /** True when the reference rate was not sustained, so the reference is the highest sustained step. */
  referenceIsFallback: boolean;
  /** True when even the highest step was sustained: the ceiling lies above the tested range. */
  neverSaturated: boolean;
}

/**
 * Steps through `rates` until one saturates, then measures once more at half of the highest
 * sustained rate. `referenceRate` picks the step whose CPU cost is compared across targets.
 */
export async function runSteppedRates(
  context: RunContext,
  target: RunningTarget,
  rates: number[],
  referenceRate: number,
  planFor: (rate: number) => StepPlan,
): Promise<SteppedResult> {
  // One unrecorded step at the lowest rate pays for first use: JIT, pooled database connections,
  // the store's first pages. The quick mode, a smoke run, skips it.
  const firstRate = rates[0];
  if (firstRate !== undefined && context.scale.warmupStep) {
    await measureStep(context, target, planFor(firstRate));
  }

  const steps: StepMetrics[] = [];
  let sustained: StepMetrics | undefined;
  for (const rate of rates) {
    const step = await measureStep(context, target, planFor(rate));
    steps.push(step);
    context.log(
      `    rate ${rate}/s: ${Math.round(step.achievedPerSecond)}/s of ${Math.round(step.offeredPerSecond)}/s, ` +
        `p99 ${formatMs(step.p99Ms)}, server CPU ${(step.serverCpuFraction * 100).toFixed(0)}%, ` +
        `load CPU ${(step.loadCpuFraction * 100).toFixed(0)}%, waiting for a core: server ${(step.serverWaitFraction * 100).toFixed(0)}%, ` +
        `load ${(step.loadWaitFraction * 100).toFixed(0)}%${step.saturated ? ' (saturated)' : ''}` +
        `${step.drained ? '' : ', backlog not drained'}`,
    );
    if (step.saturated) {
      break;
    }
    sustained = step;
  }

  let halfSaturation: StepMetrics | undefined;
  if (sustained !== undefined) {
    halfSaturation = await measureStep(context, target, planFor(sustained.offeredRate / 2));
    context.log(`    half of sustained (${sustained.offeredRate / 2}/s): p50 ${formatMs(halfSaturation.p50Ms)}, p99 ${formatMs(halfSaturation.p99Ms)}`);
  }
  // CPU per delivery is a cost, so it is read at the reference rate even when that step saturated.
  const exactReference = steps.find((step) => step.offeredRate === referenceRate);
  const last = steps[steps.length - 1];
  return {
    steps,
    sustained,
    reference: exactReference ?? sustained ?? steps[0],
    halfSaturation,
    referenceIsFallback: exactReference === undefined,
    neverSaturated: last !== undefined && !last.saturated,
  };
}

function formatMs(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(1)} ms`;
}

/** Turns a stepped run into the workload's metrics: ceiling, cost at the reference step, latency at half. */
export function summarizeSteps(result: SteppedResult, unit: string): Metrics {
  const metrics = emptyMetrics();
  const { steps, sustained, reference, halfSaturation } = result;
  metrics.steps = steps;
  metrics.perSecond = sustained?.achievedPerSecond ?? null;
  metrics.cpuMicrosPerUnit = reference?.cpuMicrosPerUnit ?? null;
  metrics.p50Ms = halfSaturation?.p50Ms ?? null;
  metrics.p99Ms = halfSaturation?.p99Ms ?? null;
  metrics.rssBytes = Math.max(...steps.map((step) => step.rssBytes));
  metrics.errors = steps.reduce((total, step) => total + step.errors, 0) + (halfSaturation?.errors ?? 0);

  const ceiling = steps.find((step) => step.saturated);
  if (ceiling !== undefined) {
    metrics.loadGeneratorBound = ceiling.loadGeneratorBound;
    metrics.serverSaturated = !ceiling.loadGeneratorBound && !ceiling.shortfallUnexplained;
    metrics.contended = ceiling.contended;
    metrics.details.firstSaturatedRate = ceiling.offeredRate;
    if (ceiling.shortfallUnexplained) {
      metrics.notes.push(
        `at ${ceiling.offeredRate} msg/s the rate fell short with the server at ${percent(ceiling.serverCpuFraction)} and the load ` +
          `generator at ${percent(ceiling.loadCpuFraction)}; their event loops waited for a core ${percent(ceiling.serverWaitFraction, '')} ` +
          `and ${percent(ceiling.loadWaitFraction, '')} of the window`,
      );
    }
  }
  if (reference?.saturated === true) {
    metrics.notes.push(`CPU cost read at ${reference.offeredRate} msg/s, a step that saturated`);
  }
  if (result.neverSaturated) {
    metrics.notes.push(`not saturated at the highest step: the ceiling is above ${Math.round(sustained?.achievedPerSecond ?? 0)} ${unit}`);
  }
  if (sustained === undefined) {
    metrics.notes.push(`saturated already at the lowest step (${steps[0]?.offeredRate ?? '?'} msg/s)`);
  }
  if (result.referenceIsFallback && reference !== undefined) {
    metrics.notes.push(`CPU cost read at ${reference.offeredRate} msg/s, not at the reference rate`);
  }
  metrics.details.referenceRate = reference?.offeredRate ?? null;
  metrics.details.halfSaturationRate = halfSaturation?.offeredRate ?? null;
  metrics.details.serverCpuAtCeiling = sustained?.serverCpuFraction ?? null;
  metrics.details.cpuMicrosAtSustained = sustained?.cpuMicrosPerUnit ?? null;
  metrics.details.sustainedRate = sustained?.offeredRate ?? null;
  return metrics;
}

function percent(fraction: number, unit = ' of a core'): string {
  return `${(fraction * 100).toFixed(0)}%${unit}`;
}
