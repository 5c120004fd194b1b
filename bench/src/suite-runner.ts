import type { BenchOptions } from './bench-options.js';
import { LoadFleet } from './load/load-fleet.js';
import { medianMetrics } from './median-metrics.js';
import type { BenchEnvironment } from './targets/bench-environment.js';
import { RunningTarget, targetUnavailableReason } from './targets/running-target.js';
import { TargetUnavailableError, type Metrics, type RunContext, type Workload } from './workloads/workload.js';

/** Bound on one run of one workload on one target, in milliseconds. */
const RUN_TIMEOUT_MS = { quick: 90_000, full: 15 * 60_000 };

/** The suite's findings for one workload on one target. */
export interface TargetOutcome {
  workload: string;
  target: string;
  targetLabel: string;
  status: 'measured' | 'unavailable' | 'failed';
  /** The reason the target was unavailable, or the first failure. */
  reason?: string;
  repetitions: Metrics[];
  median?: Metrics;
  failures: string[];
}

export interface SuiteResult {
  outcomes: TargetOutcome[];
  durationMs: number;
  /** True when the run's deadline stopped it before every workload ran. */
  deadlineHit: boolean;
}

/** CPU lists for taskset: the server cores and the load-generator cores. */
export interface CoreLayout {
  serverCpuList: string | undefined;
  loadCpuList: string | undefined;
  loadCores: number;
}

/**
 * Runs every selected workload against every selected target, each repetition on a freshly started
 * server, with one load fleet shared by all runs.
 */
export async function runSuite(
  options: BenchOptions,
  workloads: Workload[],
  environment: BenchEnvironment,
  cores: CoreLayout,
  log: (message: string) => void,
): Promise<SuiteResult> {
  const started = Date.now();
  const deadline = started + options.deadlineMs;
  const outcomes: TargetOutcome[] = [];
  let fleet = LoadFleet.start(options.loadWorkers, cores.loadCpuList);
  let runCounter = 0;
  let deadlineHit = false;

  try {
    for (const workload of workloads) {
      log(`${workload.id} ${workload.title}: ${workload.describe(options.scale)}`);
      const targets = workload.targets.filter(
        (target) => options.targets.length === 0 || options.targets.includes(target.id),
      );
      for (const spec of targets) {
        const outcome: TargetOutcome = {
          workload: workload.id,
          target: spec.id,
          targetLabel: spec.label,
          status: 'measured',
          repetitions: [],
          failures: [],
        };
        outcomes.push(outcome);

        const unavailable = targetUnavailableReason(spec, environment);
        if (unavailable !== undefined) {
          outcome.status = 'unavailable';
          outcome.reason = unavailable;
          log(`  ${spec.id}: unavailable: ${unavailable}`);
          continue;
        }

        for (let repetition = 1; repetition <= options.scale.repetitions; repetition++) {
          if (Date.now() > deadline) {
            deadlineHit = true;
            outcome.failures.push('skipped: the run deadline passed');
            break;
          }
          runCounter++;
          log(`  ${spec.id}, repetition ${repetition} of ${options.scale.repetitions}`);
          const context: RunContext = {
            scale: options.scale,
            fleet,
            environment,
            loadCores: cores.loadCores,
            roomPrefix: `b${process.pid}x${runCounter}`,
            log,
          };
          try {
            outcome.repetitions.push(await runOnce(workload, context, spec, environment, cores, options));
          } catch (error) {
            if (error instanceof TargetUnavailableError) {
              outcome.status = 'unavailable';
              outcome.reason = error.message;
              log(`  ${spec.id}: unavailable: ${error.message}`);
              break;
            }
            const message = error instanceof Error ? error.message : String(error);
            outcome.failures.push(message);
            log(`  ${spec.id}: failed: ${message}`);
            // A worker may still be busy with the abandoned run; start a clean fleet.
            fleet.stop();
            fleet = LoadFleet.start(options.loadWorkers, cores.loadCpuList);
          }
        }

        if (outcome.status !== 'unavailable') {
          if (outcome.repetitions.length > 0) {
            outcome.median = medianMetrics(outcome.repetitions);
          } else {
            outcome.status = 'failed';
            outcome.reason = outcome.failures[0] ?? 'no repetition finished';
          }
        }
      }
    }
  } finally {
    fleet.stop();
  }
  return { outcomes, durationMs: Date.now() - started, deadlineHit };
}

async function runOnce(
  workload: Workload,
  context: RunContext,
  spec: RunningTarget['spec'],
  environment: BenchEnvironment,
  cores: CoreLayout,
  options: BenchOptions,
): Promise<Metrics> {
  const target = await RunningTarget.start(spec, environment, {
    cpuList: cores.serverCpuList,
    cpuProfileDirectory: options.cpuProfileDirectory,
  });
  const timeoutMs = RUN_TIMEOUT_MS[options.scale.mode];
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${workload.id} on ${spec.id} timed out after ${timeoutMs / 1000} s`)), timeoutMs);
    });
    const metrics = await Promise.race([workload.run(context, target), timeout]);
    await context.fleet.reset();
    return metrics;
  } finally {
    clearTimeout(timer);
    await target.stop().catch((error: unknown) => context.log(`  stopping ${spec.id} failed: ${String(error)}`));
  }
}
