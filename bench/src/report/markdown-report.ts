import type { BenchOptions } from '../bench-options.js';
import type { CoreLayout, SuiteResult, TargetOutcome } from '../suite-runner.js';
import type { BenchEnvironment } from '../targets/bench-environment.js';
import { BENCH_SEND_BURST, BENCH_SEND_RATE_PER_SECOND } from '../targets/confab-node-config.js';
import {
  BUSY_CORE_FRACTION,
  CONTENDED_WAIT_FRACTION,
  SATURATION_DELIVERED_FRACTION,
  SATURATION_P99_MS,
} from '../workloads/stepped-rate.js';
import type { ExtraColumn, Metrics, Workload } from '../workloads/workload.js';
import type { GoalCheck } from './goals.js';
import { limitLines } from './limits.js';
import type { MachineInfo } from './machine-info.js';
import { formatValue, type Panel } from './svg-chart.js';

export interface ReportInput {
  machine: MachineInfo;
  options: BenchOptions;
  environment: BenchEnvironment;
  cores: CoreLayout;
  suite: SuiteResult;
  goals: GoalCheck[];
  workloads: Workload[];
  /** Path of the SVG chart relative to the Markdown file. */
  chartPath: string;
  jsonPath: string;
}

/** Writes the benchmark page: machine, goals, method, then one table per workload. */
export function renderMarkdown(input: ReportInput): string {
  const { machine, options, suite, goals } = input;
  const lines: string[] = [];
  const quick = options.scale.mode === 'quick';

  lines.push('# Benchmarks', '');
  lines.push(
    `Measured by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${machine.date.slice(0, 10)}` +
      ` (${quick ? 'quick mode: small counts, one repetition, not comparable with a full run' : `full mode: median of ${options.scale.repetitions} repetitions`}).` +
      ` The run took ${(suite.durationMs / 1000).toFixed(0)} s; raw results are in \`${input.jsonPath}\`.`,
    '',
  );

  lines.push('## Machine', '');
  lines.push(
    `- CPU: ${machine.cpuModel}, ${machine.cores} cores; memory ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB; Linux ${machine.kernel}`,
    `- Node ${machine.nodeVersion}; ws ${machine.versions.ws}, socket.io ${machine.versions['socket.io']}, better-sqlite3 ${machine.versions['better-sqlite3']}, pg ${machine.versions.pg}`,
    `- Confab at ${machine.gitCommit}`,
    `- Load average (1 min) ${machine.loadAverageStart.toFixed(1)} at the start, ${machine.loadAverageEnd?.toFixed(1) ?? '?'} at the end: ` +
      'the machine is shared, and other processes compete for both cores, so absolute figures are noisy',
    `- Pinning: ${describeCores(input.cores)}; open-file limit ${machine.openFileLimit}`,
    `- PostgreSQL: ${input.environment.databaseUrl === undefined ? `not used (${input.environment.databaseProblem ?? 'not configured'})` : 'on 127.0.0.1, one fresh schema per run'}; ` +
      `Redis: ${input.environment.redisUrl === undefined ? `not used (${input.environment.redisProblem ?? 'not configured'})` : 'on 127.0.0.1'}`,
    '',
  );

  lines.push(
    '## Goals',
    '',
    'Checked against the medians below; reported, never asserted. A caveat names the results behind a status that ' +
      'were taken while other processes held the core (contended) or while the load generator was the limit (LG-bound): ' +
      'such a status may change on a quiet machine.',
    '',
  );
  lines.push('| Goal | Status | Measured | Caveat |', '| --- | --- | --- | --- |');
  for (const goal of goals) {
    lines.push(`| ${goal.goal} | ${goal.status} | ${goal.measured} | ${goal.caveat} |`);
  }
  lines.push('');
  if (!quick) {
    lines.push(...limitLines(goals, suite.outcomes));
  }

  lines.push('## Method', '');
  lines.push(...methodLines(options), '');
  lines.push(`![Throughput and cost per target](${input.chartPath})`, '');

  for (const workload of input.workloads) {
    lines.push(...workloadSection(workload, suite.outcomes, options));
  }

  const problems = suite.outcomes.filter((outcome) => outcome.status !== 'measured' || outcome.failures.length > 0);
  if (problems.length > 0 || suite.deadlineHit) {
    lines.push('## Not measured', '');
    for (const outcome of problems) {
      const reason = outcome.reason ?? outcome.failures.join('; ');
      lines.push(`- ${outcome.workload} on ${outcome.target}: ${outcome.status === 'measured' ? 'some repetitions failed' : outcome.status}: ${reason}`);
    }
    if (suite.deadlineHit) {
      lines.push(`- The run stopped at its ${options.deadlineMs / 60_000}-minute deadline.`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function methodLines(options: BenchOptions): string[] {
  const scale = options.scale;
  const quick = scale.mode === 'quick';
  return [
    '- Every target runs in its own child process on 127.0.0.1, started fresh for each repetition. Server CPU is utime + stime ' +
      'from `/proc/<pid>/stat` (10 ms ticks) read at the edges of each measurement window; memory is VmRSS from `/proc/<pid>/status`.',
    '- Targets: **raw ws** relays each message to its room, framed once with `Sender.frame` and written to every socket. ' +
      '**Socket.IO 4** uses `io.to(room).emit`, with the WebSocket transport only and no per-message deflate. **Confab** is ' +
      '`startServer` from @confab/server with the in-memory store (`MemoryStore`), SQLite (a temporary file, synchronous ' +
      'full or normal), or PostgreSQL (its own schema). Confab clients authenticate with HS256 JWTs, and the baselines check no token.',
    `- Confab's per-user send limit is raised to ${BENCH_SEND_RATE_PER_SECOND.toLocaleString('en-US')}/s (burst ${BENCH_SEND_BURST.toLocaleString('en-US')}) ` +
      'for every Confab target, so the rate limiter is not what is measured. Every other setting is the default.',
    `- One load generator for all targets: ${options.loadWorkers} worker process(es) holding every client on the \`ws\` client, ` +
      'speaking each protocol directly (Socket.IO through its Engine.IO 4 and Socket.IO 5 packet formats). ' +
      `Messages carry ${scale.payloadBytes} bytes of content (W7: ${scale.slowConsumer.payloadBytes}) that start with the send time on the ` +
      'monotonic clock, which all processes share; latency is receipt time minus that.',
    `- Stepped workloads send open loop (the n-th message is due at n / rate whatever the server does), warm up for ` +
      `${scale.warmupMs} ms, then count for ${scale.stepMs} ms, then drain until every expected delivery has arrived. ` +
      `A step is saturated when less than ${SATURATION_DELIVERED_FRACTION * 100}% of the offered deliveries arrive in the ` +
      `window or p99 exceeds ${SATURATION_P99_MS / 1000} s. The throughput column is the highest sustained step, CPU per ` +
      'delivery is read at the reference rate (even when that step saturated), and p50/p99 come from an extra step at ' +
      'half of the sustained rate.' +
      (scale.warmupStep ? ' One unrecorded step at the lowest rate warms up each target first.' : ''),
    `- A run is marked **LG-bound** when the load generator used ${BUSY_CORE_FRACTION * 100}% or more of its core(s), or fell behind its send ` +
      'schedule, at the step that ended the climb. That ceiling belongs to the load generator, not to the server. ' +
      '**saturated** marks a ceiling where the server was the limit. **contended** marks a ceiling reached while the ' +
      `server's or the load generator's event loop spent ${CONTENDED_WAIT_FRACTION * 100}% of the window or more runnable but waiting for its ` +
      'core (run-queue delay from `/proc/<pid>/schedstat`). The core was busy with other processes on this shared ' +
      "machine, or with the process's own GC and compiler threads, which share its single pinned core.",
    quick
      ? '- **Quick mode**: counts are scaled down (for example 100 members instead of 1,000, 500 connections instead of 5,000) and each run is done once.'
      : `- Each workload and target runs ${scale.repetitions} times; tables show the median of each figure, and a flag (LG-bound, saturated, contended) when any repetition raised it, so one row can carry flags of different repetitions.`,
  ];
}

function workloadSection(workload: Workload, outcomes: TargetOutcome[], options: BenchOptions): string[] {
  const lines: string[] = [`## ${workload.id} ${workload.title}`, '', `${capitalize(workload.describe(options.scale))}. Latency: ${workload.latencyMeaning}.`, ''];
  const extra = workload.extraColumns ?? [];
  const header = ['Target', workload.unit, 'CPU µs per unit', 'p50 ms', 'p99 ms', 'RSS MB', 'errors', ...extra.map((column) => column.label), 'notes'];
  lines.push(`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`);

  for (const outcome of outcomes.filter((item) => item.workload === workload.id)) {
    const metrics = outcome.median;
    if (metrics === undefined) {
      lines.push(`| ${outcome.targetLabel} | ${outcome.status} | | | | | | ${extra.map(() => '').join(' | ')}${extra.length > 0 ? ' | ' : ''}${escapeCell(outcome.reason ?? '')} |`);
      continue;
    }
    const cells = [
      outcome.targetLabel,
      formatNumber(metrics.perSecond),
      formatNumber(metrics.cpuMicrosPerUnit),
      formatNumber(metrics.p50Ms),
      formatNumber(metrics.p99Ms),
      metrics.rssBytes === null ? 'n/a' : (metrics.rssBytes / 1e6).toFixed(1),
      String(metrics.errors),
      ...extra.map((column) => formatDetail(metrics, column)),
      escapeCell(flagsOf(metrics).concat(metrics.notes).join('; ')),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');

  const stepped = outcomes.filter((item) => item.workload === workload.id && item.median?.steps !== undefined);
  if (stepped.length > 0) {
    lines.push('Steps (offered msg/s: delivered of offered per second, p99):', '');
    for (const outcome of stepped) {
      const steps = (outcome.median?.steps ?? []).map(
        (step) =>
          `${formatValue(step.offeredRate)}: ${formatValue(step.achievedPerSecond)} of ${formatValue(step.offeredPerSecond)}, ` +
          `p99 ${step.p99Ms === null ? 'n/a' : `${formatValue(step.p99Ms)} ms`}${step.saturated ? ' (saturated)' : ''}`,
      );
      lines.push(`- ${outcome.targetLabel}: ${steps.join('; ')}`);
    }
    lines.push('');
  }
  return lines;
}

/** Short flags for a result, also used in the chart. */
export function flagsOf(metrics: Metrics): string[] {
  const flags: string[] = [];
  if (metrics.loadGeneratorBound) {
    flags.push('LG-bound');
  }
  if (metrics.serverSaturated) {
    flags.push('saturated');
  }
  if (metrics.contended) {
    flags.push('contended');
  }
  return flags;
}

/** Builds the chart's panels from the medians. */
export function chartPanels(outcomes: TargetOutcome[]): Panel[] {
  const panel = (workload: string, title: string, unit: string, pick: (metrics: Metrics) => number | null): Panel => ({
    title: `${workload} ${title}`,
    unit,
    bars: outcomes
      .filter((outcome) => outcome.workload === workload)
      .map((outcome) => {
        const bar: Panel['bars'][number] = {
          label: outcome.target,
          value: outcome.median === undefined ? null : pick(outcome.median),
        };
        const flags = outcome.median === undefined ? [outcome.status] : flagsOf(outcome.median);
        if (flags.length > 0) {
          bar.flag = `(${flags.join(', ')})`;
        }
        return bar;
      }),
  });
  const detail = (key: string) => (metrics: Metrics): number | null => {
    const value = metrics.details[key];
    return typeof value === 'number' ? value : null;
  };
  return [
    panel('W1', 'fan-out, highest sustained', 'deliveries/s', (metrics) => metrics.perSecond),
    panel('W1', 'fan-out, server CPU per delivery at the reference rate', 'µs', (metrics) => metrics.cpuMicrosPerUnit),
    panel('W2', 'many rooms, highest sustained', 'deliveries/s', (metrics) => metrics.perSecond),
    panel('W3', 'connect storm', 'connections/s', (metrics) => metrics.perSecond),
    panel('W4', 'idle memory', 'bytes RSS per connection', detail('rssPerConnectionBytes')),
    panel('W5', 'resume', 'replayed events/s', (metrics) => metrics.perSecond),
    panel('W6', 'durable send, highest sustained', 'acknowledged sends/s', (metrics) => metrics.perSecond),
    panel('W7', 'slow consumer, server RSS growth', 'bytes', detail('rssGrowthBytes')),
    panel('W8', 'two nodes, highest sustained', 'deliveries/s', (metrics) => metrics.perSecond),
  ].filter((item) => item.bars.length > 0);
}

function describeCores(cores: CoreLayout): string {
  if (cores.serverCpuList === undefined) {
    return 'none (taskset missing or fewer than 2 cores): servers and load generator share every core';
  }
  return `servers on CPU ${cores.serverCpuList}, load generator and suite on CPU ${cores.loadCpuList ?? '?'} (taskset)`;
}

function formatDetail(metrics: Metrics, column: ExtraColumn): string {
  const value = metrics.details[column.key];
  if (value === null || value === undefined) {
    return 'n/a';
  }
  // Medians of separate details can come from different repetitions: a rate of 0 with a p99 from
  // a repetition that had one would read as a contradiction.
  if (column.onlyWhenPositive !== undefined) {
    const condition = metrics.details[column.onlyWhenPositive];
    if (typeof condition !== 'number' || condition <= 0) {
      return 'n/a';
    }
  }
  if (typeof value !== 'number') {
    return escapeCell(String(value));
  }
  switch (column.format) {
    case 'bytes':
      return Math.abs(value) >= 1e6 ? `${(value / 1e6).toFixed(1)} MB` : `${(value / 1024).toFixed(1)} KB`;
    case 'percent':
      return `${(value * 100).toFixed(1)}%`;
    case 'ms':
      return value.toFixed(1);
    case 'count':
      return Number.isInteger(value) ? value.toLocaleString('en-US') : formatValue(value);
    default:
      return formatValue(value);
  }
}

function formatNumber(value: number | null): string {
  return value === null ? 'n/a' : formatValue(value);
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
