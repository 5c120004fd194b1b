import type { BenchScale } from '../bench-options.js';
import type { LoadFleet } from '../load/load-fleet.js';
import type { BenchEnvironment } from '../targets/bench-environment.js';
import type { RunningTarget } from '../targets/running-target.js';
import type { TargetSpec } from '../targets/target-spec.js';

/** The measurements of one step of a stepped-rate workload. */
export interface StepMetrics {
  /** Messages (or sends) per second that the load generator offered. */
  offeredRate: number;
  /** Deliveries per second the offered rate should produce. */
  offeredPerSecond: number;
  achievedPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  serverCpuFraction: number;
  cpuMicrosPerUnit: number | null;
  loadCpuFraction: number;
  /** Share of the window the server's and the load generator's event loops waited for a core. */
  serverWaitFraction: number;
  loadWaitFraction: number;
  rssBytes: number;
  errors: number;
  saturated: boolean;
  loadGeneratorBound: boolean;
  /** The rate fell short while neither the server nor the load generator used a full core. */
  shortfallUnexplained: boolean;
  /** The server's or load generator's event loop waited for its core for a fifth of the window or more. */
  contended: boolean;
  /** Whether every expected delivery arrived after the step; false when some never did. */
  drained: boolean;
  extra?: Record<string, number | null>;
}

/** The result of one workload on one target, from one repetition. */
export interface Metrics {
  /** The workload's throughput: deliveries, connections, replayed events or sends per second. */
  perSecond: number | null;
  /** Server CPU time per unit of that throughput, in microseconds. */
  cpuMicrosPerUnit: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  rssBytes: number | null;
  errors: number;
  loadGeneratorBound: boolean;
  serverSaturated: boolean;
  /** The event loops waited for their cores at the step that ended the climb (see `StepMetrics`). */
  contended: boolean;
  notes: string[];
  details: Record<string, number | string | boolean | null>;
  steps?: StepMetrics[];
}

/** Shared parts of a workload run. */
export interface RunContext {
  scale: BenchScale;
  fleet: LoadFleet;
  environment: BenchEnvironment;
  /** Cores of the load workers, to judge when they are the bottleneck. */
  loadCores: number;
  /** Prefix of every room name, unique to this run, so that shared Redis channels never collide. */
  roomPrefix: string;
  log: (message: string) => void;
}

/** One workload of the suite. */
export interface Workload {
  id: string;
  title: string;
  /** The unit of `perSecond`, for table headers. */
  unit: string;
  /** The interval that `p50Ms` and `p99Ms` measure. */
  latencyMeaning: string;
  targets: TargetSpec[];
  /** Entries of `Metrics.details` shown as extra table columns. */
  extraColumns?: ExtraColumn[];
  /** One line on the shape of the load at this scale. */
  describe(scale: BenchScale): string;
  run(context: RunContext, target: RunningTarget): Promise<Metrics>;
}

/** A workload-specific table column read from `Metrics.details`. */
export interface ExtraColumn {
  key: string;
  label: string;
  format: 'count' | 'bytes' | 'ms' | 'percent' | 'text';
  /** Another detail that must be a positive number for this one to mean anything; else n/a. */
  onlyWhenPositive?: string;
}

/** A workload that cannot run on a target here, with the reason; it is reported, not failed. */
export class TargetUnavailableError extends Error {
  override readonly name = 'TargetUnavailableError';
}

export function emptyMetrics(): Metrics {
  return {
    perSecond: null,
    cpuMicrosPerUnit: null,
    p50Ms: null,
    p99Ms: null,
    rssBytes: null,
    errors: 0,
    loadGeneratorBound: false,
    serverSaturated: false,
    contended: false,
    notes: [],
    details: {},
  };
}
