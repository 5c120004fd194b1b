import { resolve } from 'node:path';

/** Sizes and durations of every workload for one mode of the suite. */
export interface BenchScale {
  mode: 'quick' | 'full';
  repetitions: number;
  /** Traffic before each measurement window, excluded from it, in milliseconds. */
  warmupMs: number;
  /** Whether each stepped run starts with an unrecorded step at its lowest rate. */
  warmupStep: boolean;
  /** Length of each measurement window, in milliseconds. */
  stepMs: number;
  /** Message content size in bytes, the same for every target and workload except W7. */
  payloadBytes: number;
  fanout: { members: number; publisherRates: number[]; referenceRate: number };
  manyRooms: { rooms: number; membersPerRoom: number; sendRates: number[]; referenceRate: number };
  connectStorm: { connections: number; concurrency: number; roomSize: number };
  idleMemory: { connections: number; roomSize: number; idleHoldMs: number };
  resume: { rooms: number; clientsPerRoom: number; seenEvents: number; missedEvents: number; concurrency: number };
  durableSend: { senders: number; sendRates: number[]; referenceRate: number };
  slowConsumer: { members: number; slowFraction: number; publisherRate: number; payloadBytes: number; durationMs: number };
  twoNodes: { members: number; publisherRates: number[]; referenceRate: number };
}

export const FULL_SCALE: BenchScale = {
  mode: 'full',
  repetitions: 3,
  warmupMs: 1000,
  warmupStep: true,
  stepMs: 3000,
  payloadBytes: 140,
  fanout: { members: 1000, publisherRates: [20, 40, 80, 160, 320, 640, 1280], referenceRate: 40 },
  manyRooms: { rooms: 1000, membersPerRoom: 10, sendRates: [1000, 2000, 4000, 8000, 16000, 32000], referenceRate: 2000 },
  connectStorm: { connections: 5000, concurrency: 200, roomSize: 10 },
  idleMemory: { connections: 10_000, roomSize: 10, idleHoldMs: 2000 },
  resume: { rooms: 100, clientsPerRoom: 5, seenEvents: 10, missedEvents: 50, concurrency: 100 },
  durableSend: { senders: 200, sendRates: [2500, 5000, 10000, 20000, 40000], referenceRate: 5000 },
  slowConsumer: { members: 300, slowFraction: 0.01, publisherRate: 80, payloadBytes: 4000, durationMs: 24_000 },
  twoNodes: { members: 1000, publisherRates: [20, 40, 80, 160, 320, 640], referenceRate: 40 },
};

export const QUICK_SCALE: BenchScale = {
  mode: 'quick',
  repetitions: 1,
  warmupMs: 100,
  warmupStep: false,
  stepMs: 300,
  payloadBytes: 140,
  fanout: { members: 100, publisherRates: [100, 800], referenceRate: 100 },
  manyRooms: { rooms: 50, membersPerRoom: 10, sendRates: [500, 4000], referenceRate: 500 },
  connectStorm: { connections: 500, concurrency: 100, roomSize: 10 },
  idleMemory: { connections: 500, roomSize: 10, idleHoldMs: 500 },
  resume: { rooms: 10, clientsPerRoom: 5, seenEvents: 10, missedEvents: 50, concurrency: 50 },
  durableSend: { senders: 50, sendRates: [2000, 16000], referenceRate: 2000 },
  slowConsumer: { members: 100, slowFraction: 0.01, publisherRate: 80, payloadBytes: 4000, durationMs: 1000 },
  twoNodes: { members: 100, publisherRates: [100, 800], referenceRate: 100 },
};

export interface BenchOptions {
  scale: BenchScale;
  /** Workload ids to run, such as W1; all when empty. */
  workloads: string[];
  /** Target ids to run; all when empty. */
  targets: string[];
  loadWorkers: number;
  /** Whether to write docs/benchmarks.md. A full run writes it by default and a quick run does not. */
  writeDocs: boolean;
  /** The --docs or --no-docs flag as given, undefined when neither was. */
  docsFlag: boolean | undefined;
  /** Hard limit on the whole run, in milliseconds. */
  deadlineMs: number;
  /** Folder for V8 CPU profiles of the server processes (`node --cpu-prof`); none when undefined. */
  cpuProfileDirectory: string | undefined;
  /** A results file to render the report from again, instead of running the suite. */
  reportFrom: string | undefined;
}

const USAGE = `Usage: npm run bench -- [options]

  --quick              small counts, one repetition, about a minute; results go to bench-results/ only
  --workloads W1,W3    run only these workloads, W1 to W8 (default: all)
  --targets raw-ws,... run only these targets (default: all): raw-ws, socket.io, confab-memory,
                       confab-sqlite-full, confab-sqlite-normal, confab-postgres, confab-2-nodes-redis
  --load-workers N     load-generator processes (default: 1)
  --repetitions N      repetitions of each workload and target (default: 3, quick: 1)
  --docs / --no-docs   write docs/benchmarks.md (default: on only for a whole full run: off for --quick
                       and for a run narrowed by --workloads, --targets or --repetitions)
  --cpu-prof DIR       write a V8 CPU profile of every server process into DIR
  --report-from FILE   render the Markdown and SVG again from a results file in bench-results/, without running
  --help               print this text`;

/** Parses the suite's command-line arguments; throws with the usage text on a bad one. */
export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  let quick = false;
  let workloads: string[] = [];
  let targets: string[] = [];
  let loadWorkers = 1;
  let repetitions: number | undefined;
  let writeDocs: boolean | undefined;
  let cpuProfileDirectory: string | undefined;
  let reportFrom: string | undefined;

  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    const value = (): string => {
      const next = argv[++index];
      if (next === undefined) {
        throw new Error(`option ${argument} needs a value\n\n${USAGE}`);
      }
      return next;
    };
    switch (argument) {
      case '--quick':
        quick = true;
        break;
      case '--workloads':
        workloads = value().split(',').map((item) => item.trim().toUpperCase());
        break;
      case '--targets':
        targets = value().split(',').map((item) => item.trim());
        break;
      case '--load-workers':
        loadWorkers = Number(value());
        if (!Number.isInteger(loadWorkers) || loadWorkers < 1 || loadWorkers > 8) {
          throw new Error(`invalid --load-workers ${loadWorkers}: use an integer from 1 to 8`);
        }
        break;
      case '--repetitions':
        repetitions = Number(value());
        if (!Number.isInteger(repetitions) || repetitions < 1 || repetitions > 9) {
          throw new Error(`invalid --repetitions ${repetitions}: use an integer from 1 to 9`);
        }
        break;
      case '--docs':
        writeDocs = true;
        break;
      case '--no-docs':
        writeDocs = false;
        break;
      case '--cpu-prof':
        cpuProfileDirectory = resolve(value());
        break;
      case '--report-from':
        reportFrom = resolve(value());
        break;
      case '--help':
        return 'help';
      default:
        throw new Error(`unknown option ${argument}\n\n${USAGE}`);
    }
  }

  return {
    scale: { ...(quick ? QUICK_SCALE : FULL_SCALE), ...(repetitions === undefined ? {} : { repetitions }) },
    workloads,
    targets,
    loadWorkers,
    writeDocs: writeDocs ?? (!quick && workloads.length === 0 && targets.length === 0 && repetitions === undefined),
    docsFlag: writeDocs,
    deadlineMs: quick ? 5 * 60_000 : 120 * 60_000,
    cpuProfileDirectory,
    reportFrom,
  };
}

export { USAGE };
