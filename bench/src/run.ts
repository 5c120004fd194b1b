/**
 * Confab's benchmark suite: every workload against every target in one run, with one load
 * generator. `npm run bench -- --help` lists the options.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';

import { FULL_SCALE, parseBenchOptions, QUICK_SCALE, USAGE, type BenchOptions } from './bench-options.js';
import { canPinCores, killAllChildren, pinCurrentProcess, REPOSITORY_ROOT } from './child-processes.js';
import { compileChildren } from './compile-children.js';
import { medianMetrics } from './median-metrics.js';
import { checkGoals } from './report/goals.js';
import { describeMachine, type MachineInfo } from './report/machine-info.js';
import { chartPanels, renderMarkdown } from './report/markdown-report.js';
import { renderBarPanels } from './report/svg-chart.js';
import { runSuite, type CoreLayout, type SuiteResult } from './suite-runner.js';
import { probeEnvironment, type BenchEnvironment } from './targets/bench-environment.js';
import { checkSocketIoTarget } from './targets/socketio-preflight.js';
import { ALL_WORKLOADS } from './workloads/all-workloads.js';

const startedMs = Date.now();

function log(message: string): void {
  const elapsedSeconds = ((Date.now() - startedMs) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[${elapsedSeconds} s] ${message}\n`);
}

/** Servers get the first half of the cores and the load generator the rest, when taskset exists. */
function planCores(): CoreLayout {
  const count = cpus().length;
  if (!canPinCores() || count < 2) {
    return { serverCpuList: undefined, loadCpuList: undefined, loadCores: count };
  }
  const serverCores = Math.floor(count / 2);
  const list = (from: number, to: number): string => (from === to ? String(from) : `${from}-${to}`);
  return {
    serverCpuList: list(0, serverCores - 1),
    loadCpuList: list(serverCores, count - 1),
    loadCores: count - serverCores,
  };
}

async function main(options: BenchOptions): Promise<number> {
  const workloads = ALL_WORKLOADS.filter(
    (workload) => options.workloads.length === 0 || options.workloads.includes(workload.id),
  );
  if (workloads.length === 0) {
    throw new Error(`no workload matches ${options.workloads.join(',')}; use W1 to W8`);
  }

  const machine = describeMachine();
  const cores = planCores();
  if (cores.loadCpuList !== undefined) {
    pinCurrentProcess(cores.loadCpuList);
  }
  log(`mode ${options.scale.mode}: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.nodeVersion}, load average ${machine.loadAverageStart.toFixed(1)}`);
  if (options.scale.mode === 'quick') {
    log(
      `quick mode: counts are scaled down (W1 ${QUICK_SCALE.fanout.members} members instead of ${FULL_SCALE.fanout.members}, ` +
        `W3 ${QUICK_SCALE.connectStorm.connections} connections instead of ${FULL_SCALE.connectStorm.connections}, ` +
        `W4 ${QUICK_SCALE.idleMemory.connections} instead of ${FULL_SCALE.idleMemory.connections}) and each run is done once`,
    );
  }

  await compileChildren();
  const environment = await probeEnvironment();
  log(`PostgreSQL: ${environment.databaseUrl === undefined ? environment.databaseProblem : 'reachable'}; Redis: ${environment.redisUrl === undefined ? environment.redisProblem : 'reachable'}`);

  const runsSocketIo = options.targets.length === 0 || options.targets.includes('socket.io');
  if (runsSocketIo) {
    const problem = await checkSocketIoTarget(environment, cores.serverCpuList);
    log(problem === undefined ? 'socket.io-client check passed' : `socket.io-client check FAILED: ${problem}`);
  }

  const suite = await runSuite(options, workloads, environment, cores, log);
  machine.loadAverageEnd = loadavg()[0] ?? 0;

  const stamp = machine.date.replace(/[:.]/g, '-');
  const resultsDirectory = join(REPOSITORY_ROOT, 'bench-results');
  mkdirSync(resultsDirectory, { recursive: true });
  const jsonPath = join(resultsDirectory, `${stamp}-${options.scale.mode}.json`);
  const results: SavedResults = { machine, options, environment: redactEnvironment(environment), cores, suite };
  writeFileSync(jsonPath, `${JSON.stringify({ ...results, goals: checkGoals(suite.outcomes, options.scale.mode === 'quick') }, null, 2)}\n`);
  writeReports(results, jsonPath, options.writeDocs);

  const failed = suite.outcomes.filter((outcome) => outcome.status === 'failed');
  for (const outcome of failed) {
    log(`FAILED ${outcome.workload} on ${outcome.target}: ${outcome.reason ?? ''}`);
  }
  return failed.length === 0 ? 0 : 1;
}

/** The contents of a results file in bench-results/, enough to render its report again. */
interface SavedResults {
  machine: MachineInfo;
  options: BenchOptions;
  environment: BenchEnvironment;
  cores: CoreLayout;
  suite: SuiteResult;
}

/** Writes the Markdown page and the SVG chart, into docs/ or next to the results file. */
function writeReports(results: SavedResults, jsonPath: string, writeDocs: boolean): void {
  const { machine, options, environment, cores, suite } = results;
  const workloads = ALL_WORKLOADS.filter(
    (workload) => options.workloads.length === 0 || options.workloads.includes(workload.id),
  );
  const goals = checkGoals(suite.outcomes, options.scale.mode === 'quick');

  const docsDirectory = writeDocs ? join(REPOSITORY_ROOT, 'docs') : join(REPOSITORY_ROOT, 'bench-results');
  mkdirSync(docsDirectory, { recursive: true });
  const baseName = writeDocs ? 'benchmarks' : `benchmarks-${options.scale.mode}`;
  const markdownPath = join(docsDirectory, `${baseName}.md`);
  const chartPath = join(docsDirectory, `${baseName}.svg`);
  const subtitle = `${options.scale.mode} mode, ${machine.date.slice(0, 10)}, ${machine.cpuModel} ×${machine.cores}, Node ${machine.nodeVersion}`;
  writeFileSync(chartPath, renderBarPanels('Confab benchmarks', subtitle, chartPanels(suite.outcomes)));
  writeFileSync(
    markdownPath,
    renderMarkdown({
      machine,
      options,
      environment,
      cores,
      suite,
      goals,
      workloads,
      chartPath: relative(docsDirectory, chartPath),
      jsonPath: relative(REPOSITORY_ROOT, jsonPath),
    }),
  );

  log('goals:');
  for (const goal of goals) {
    log(`  ${goal.status.padEnd(12)} ${goal.goal}: ${goal.measured}${goal.caveat === '' ? '' : ` (${goal.caveat})`}`);
  }
  log(`wrote ${relative(REPOSITORY_ROOT, markdownPath)} and ${relative(REPOSITORY_ROOT, chartPath)} from ${relative(REPOSITORY_ROOT, jsonPath)}`);
}

/** Renders the report of an earlier run again, recomputing medians and goals with the current code. */
function renderFromResults(path: string, writeDocs: boolean | undefined): number {
  const results = JSON.parse(readFileSync(path, 'utf8')) as SavedResults;
  for (const outcome of results.suite.outcomes) {
    if (outcome.repetitions.length > 0 && outcome.status === 'measured') {
      outcome.median = medianMetrics(outcome.repetitions);
    }
  }
  writeReports(results, path, writeDocs ?? results.options.scale.mode === 'full');
  return 0;
}

function redactEnvironment(environment: BenchEnvironment): BenchEnvironment {
  return {
    databaseUrl: environment.databaseUrl?.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@'),
    databaseProblem: environment.databaseProblem,
    redisUrl: environment.redisUrl,
    redisProblem: environment.redisProblem,
  };
}

// A rejection that no code awaited is a bug in the suite, but one run should not end the whole suite.
process.on('unhandledRejection', (reason) => {
  log(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
});

let exitCode = 1;
try {
  const parsed = parseBenchOptions(process.argv.slice(2));
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    exitCode = 0;
  } else if (parsed.reportFrom !== undefined) {
    exitCode = renderFromResults(parsed.reportFrom, parsed.docsFlag);
  } else {
    exitCode = await main(parsed);
  }
} catch (error) {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  exitCode = 1;
} finally {
  killAllChildren();
}
process.exit(exitCode);
