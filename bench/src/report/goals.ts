import type { Metrics } from '../workloads/workload.js';
import type { TargetOutcome } from '../suite-runner.js';

export type GoalStatus = 'met' | 'not met' | 'not measured' | 'inconclusive';

/** One performance goal checked against the measured medians. */
export interface GoalCheck {
  goal: string;
  status: GoalStatus;
  /** The measured figures, in words, with the ratio the goal is about. */
  measured: string;
  /** The reason the status may change on a quiet machine, such as results taken while contended. */
  caveat: string;
}

/** Looks up the median metrics of one workload on one target. */
type Lookup = (workload: string, target: string) => Metrics | undefined;

/**
 * Checks the suite's goals. They are reported, never asserted: on a shared 2-core machine a missed
 * goal may be noise, and the run must still finish.
 */
export function checkGoals(outcomes: TargetOutcome[], quick = false): GoalCheck[] {
  const lookup: Lookup = (workload, target) =>
    outcomes.find((outcome) => outcome.workload === workload && outcome.target === target)?.median;
  const checks = fullRunGoals(lookup);
  if (!quick) {
    return checks;
  }
  // A quick run reads CPU over 300 ms windows in 10 ms ticks and memory over 500 connections.
  const quickCaveat = 'quick mode: small counts and short windows, so the status is only indicative';
  return checks.map((check) => ({ ...check, caveat: check.caveat === '' ? quickCaveat : `${quickCaveat}; ${check.caveat}` }));
}

function fullRunGoals(lookup: Lookup): GoalCheck[] {
  const sqliteTargets = ['confab-sqlite-full', 'confab-sqlite-normal'];
  return [
    ...sqliteTargets.flatMap((sqlite) => [
      withCaveat(
        lookup,
        cpuRatioGoal(lookup, sqlite, 'raw-ws', 1.1, `W1: ${sqlite} server CPU per delivery within 1.1× raw ws`),
        [
          ['W1', sqlite],
          ['W1', 'raw-ws'],
        ],
        'reference step',
      ),
      withCaveat(
        lookup,
        cpuRatioGoal(lookup, sqlite, 'socket.io', 1.0, `W1: ${sqlite} server CPU per delivery at most Socket.IO's`),
        [
          ['W1', sqlite],
          ['W1', 'socket.io'],
        ],
        'reference step',
      ),
    ]),
    withCaveat(lookup, saturationCpuGoal(lookup, 'confab-sqlite-full'), [
      ['W1', 'confab-sqlite-full'],
      ['W1', 'raw-ws'],
    ]),
    withCaveat(
      lookup,
      throughputRatioGoal(lookup, 'W2', 'confab-sqlite-full', 'socket.io', 1.5, 'W2: confab-sqlite-full deliveries/s ≥ 1.5× Socket.IO'),
      [
        ['W2', 'confab-sqlite-full'],
        ['W2', 'socket.io'],
      ],
    ),
    withCaveat(lookup, latencyGoal(lookup, 'W1', 'confab-sqlite-full', 50, 'W1: confab-sqlite-full p99 < 50 ms at half of saturation'), [
      ['W1', 'confab-sqlite-full'],
    ]),
    withCaveat(lookup, latencyGoal(lookup, 'W2', 'confab-sqlite-full', 50, 'W2: confab-sqlite-full p99 < 50 ms at half of saturation'), [
      ['W2', 'confab-sqlite-full'],
    ]),
    withCaveat(lookup, memoryGoal(lookup, 'confab-sqlite-full'), [
      ['W4', 'confab-sqlite-full'],
      ['W4', 'raw-ws'],
    ]),
    ...sqliteTargets.map((sqlite) => withCaveat(lookup, durableSendGoal(lookup, sqlite), [['W6', sqlite]])),
    ...sqliteTargets.map((sqlite) =>
      withCaveat(
        lookup,
        throughputRatioGoal(lookup, 'W1', sqlite, 'confab-memory', 0.8, `W1: persistence (${sqlite}) costs at most 20% of in-memory deliveries/s`),
        [
          ['W1', sqlite],
          ['W1', 'confab-memory'],
        ],
      ),
    ),
  ];
}

type GoalResult = Omit<GoalCheck, 'caveat'>;

/**
 * Adds the flags of the results a goal was computed from, so that a reader can judge its status.
 * Both flags describe the step that ended the climb, so a goal read at the reference step gets
 * none: CPU time per delivery there does not depend on the ceiling.
 */
function withCaveat(
  lookup: Lookup,
  result: GoalResult,
  inputs: Array<[string, string]>,
  readAt: 'ceiling' | 'reference step' = 'ceiling',
): GoalCheck {
  const caveats = new Set<string>();
  for (const [workload, target] of inputs) {
    const metrics = lookup(workload, target);
    if (readAt === 'reference step') {
      continue;
    }
    if (metrics?.contended === true) {
      caveats.add(`${workload} ${target} contended`);
    }
    if (metrics?.loadGeneratorBound === true) {
      caveats.add(`${workload} ${target} LG-bound`);
    }
  }
  return { ...result, caveat: [...caveats].join('; ') };
}

function cpuRatioGoal(lookup: Lookup, target: string, baseline: string, maxRatio: number, goal: string): GoalResult {
  const mine = lookup('W1', target)?.cpuMicrosPerUnit;
  const theirs = lookup('W1', baseline)?.cpuMicrosPerUnit;
  if (mine == null || theirs == null || theirs <= 0) {
    return { goal, status: 'not measured', measured: 'a figure is missing' };
  }
  const ratio = mine / theirs;
  return {
    goal,
    status: ratio <= maxRatio ? 'met' : 'not met',
    measured: `${mine.toFixed(2)} vs ${theirs.toFixed(2)} µs per delivery: ${ratio.toFixed(2)}×`,
  };
}

/** Coalescing goal: at the highest sustained rate, half the raw ws relay's CPU per delivery at its own. */
function saturationCpuGoal(lookup: Lookup, target: string): GoalResult {
  const goal = `W1: ${target} server CPU per delivery at its highest sustained rate ≤ 0.5× raw ws's at its own`;
  const mineMetrics = lookup('W1', target);
  const theirMetrics = lookup('W1', 'raw-ws');
  const mine = mineMetrics?.details.cpuMicrosAtSustained;
  const theirs = theirMetrics?.details.cpuMicrosAtSustained;
  if (typeof mine !== 'number' || typeof theirs !== 'number' || theirs <= 0) {
    return { goal, status: 'not measured', measured: 'a figure is missing' };
  }
  const ratio = mine / theirs;
  return {
    goal,
    status: ratio <= 0.5 ? 'met' : 'not met',
    measured:
      `${mine.toFixed(2)} µs per delivery${atSustainedRate(mineMetrics)} vs ` +
      `${theirs.toFixed(2)}${atSustainedRate(theirMetrics)}: ${ratio.toFixed(2)}×`,
  };
}

/** Names the highest sustained rate of a stepped result, as " at N msg/s", or nothing. */
function atSustainedRate(metrics: Metrics | undefined): string {
  // Results saved before the rate was recorded still have their steps.
  const recorded = metrics?.details.sustainedRate;
  const fromSteps = metrics?.steps?.filter((step) => !step.saturated).at(-1)?.offeredRate;
  const rate = typeof recorded === 'number' ? recorded : fromSteps;
  return rate === undefined ? '' : ` at ${rate} msg/s`;
}

function throughputRatioGoal(
  lookup: Lookup,
  workload: string,
  target: string,
  baseline: string,
  minRatio: number,
  goal: string,
): GoalResult {
  const mine = lookup(workload, target);
  const theirs = lookup(workload, baseline);
  if (mine?.perSecond == null || theirs?.perSecond == null || theirs.perSecond <= 0) {
    return { goal, status: 'not measured', measured: 'a figure is missing' };
  }
  const ratio = mine.perSecond / theirs.perSecond;
  const measured = `${Math.round(mine.perSecond)} vs ${Math.round(theirs.perSecond)} deliveries/s: ${ratio.toFixed(2)}×`;
  // A ceiling set by the load generator, or never reached, is no measure of the server.
  const unreached = [mine, theirs].some(
    (metrics) => metrics.loadGeneratorBound || metrics.notes.some((note) => note.startsWith('not saturated')),
  );
  if (unreached && ratio < minRatio) {
    return { goal, status: 'inconclusive', measured: `${measured}; a ceiling was set by the load generator or not reached` };
  }
  return { goal, status: ratio >= minRatio ? 'met' : 'not met', measured };
}

function latencyGoal(lookup: Lookup, workload: string, target: string, maxMs: number, goal: string): GoalResult {
  const metrics = lookup(workload, target);
  if (metrics?.p99Ms == null) {
    return { goal, status: 'not measured', measured: 'no half-saturation step' };
  }
  const rate = metrics.details.halfSaturationRate;
  return {
    goal,
    status: metrics.p99Ms < maxMs ? 'met' : 'not met',
    measured: `p99 ${metrics.p99Ms.toFixed(1)} ms at ${String(rate)} msg/s: ${(metrics.p99Ms / maxMs).toFixed(2)}× the bound`,
  };
}

function memoryGoal(lookup: Lookup, target: string): GoalResult {
  const goal = `W4: ${target} RSS per idle connection ≤ raw ws + 2 KB`;
  const mine = lookup('W4', target)?.details.rssPerConnectionBytes;
  const raw = lookup('W4', 'raw-ws')?.details.rssPerConnectionBytes;
  if (typeof mine !== 'number' || typeof raw !== 'number') {
    return { goal, status: 'not measured', measured: 'a figure is missing' };
  }
  const extra = mine - raw;
  return {
    goal,
    status: extra <= 2048 ? 'met' : 'not met',
    measured: `${(mine / 1024).toFixed(1)} KB vs ${(raw / 1024).toFixed(1)} KB: +${(extra / 1024).toFixed(1)} KB (${(extra / 2048).toFixed(2)}× the 2 KB allowance)`,
  };
}

function durableSendGoal(lookup: Lookup, target: string): GoalResult {
  const goal = `W6: ${target} ≥ 20,000 durable sends/s with p99 send-to-ack < 10 ms`;
  const metrics = lookup('W6', target);
  const rate = metrics?.details.maxRateWithinP99Goal;
  if (metrics === undefined || typeof rate !== 'number') {
    return { goal, status: 'not measured', measured: 'no W6 result' };
  }
  let status: GoalStatus = 'not met';
  if (rate >= 20_000) {
    status = 'met';
  } else if (metrics.loadGeneratorBound) {
    status = 'inconclusive';
  }
  return {
    goal,
    status,
    measured: `${Math.round(rate)} sends/s with p99 < 10 ms (${(rate / 20_000).toFixed(2)}× the goal); ceiling ${Math.round(metrics.perSecond ?? 0)} sends/s`,
  };
}
