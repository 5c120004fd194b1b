import type { TargetOutcome } from '../suite-runner.js';
import type { GoalCheck } from './goals.js';

/**
 * The measured reasons behind goals that a run does not meet, one paragraph per kind of goal. The
 * figures come from profiles of the suite's servers (`--cpu-prof`) and from standalone scripts that
 * drove the SQLite writer alone. Both ran on the benchmark machine on 2026-12-04: 2 cores, Node 20,
 * better-sqlite3 12, SQLite in WAL mode with 4 KB pages.
 */
interface Limit {
  matches: (goal: string) => boolean;
  title: string;
  /** The paragraph, given the run's outcomes for figures that change from run to run. */
  text: (outcomes: TargetOutcome[]) => string;
}

const LIMITS: Limit[] = [
  {
    matches: (goal) => goal.startsWith('W6:'),
    title: 'Durable sends (W6)',
    text: () =>
      'Each durable send is one row in three SQLite B-trees: the table, the (room, seq) key and the idempotency key. ' +
      'With every sender in a room of its own, nearly every row dirties pages of its own, and SQLite writes whole ' +
      '4 KB pages to the WAL: a commit of five rows in five rooms wrote about 68 KB. A script that drove the writer ' +
      'with no server around it measured about 25 µs of CPU per row at 20 rows per commit, and about 300 µs more ' +
      'per commit, a quarter of it in the sync. The event loop spends about 25 µs per send ' +
      '(decode, checks, acknowledgement, event frame, one write). The suite pins the server to one core, which the ' +
      'event loop, the writer thread and the checkpointer share. 20,000 sends/s therefore need about one whole core, ' +
      'so the ceiling is near 20,000/s, and p99 stays under 10 ms only while the core is at most about half busy. Meeting ' +
      'the goal needs a second core for the writer, or a log that appends rows without rewriting pages.',
  },
  {
    matches: (goal) => goal.startsWith('W2:') && goal.includes('Socket.IO'),
    title: 'Many rooms against Socket.IO (W2)',
    text: (outcomes) => {
      const memory = perSecond(outcomes, 'W2', 'confab-memory');
      const socketIo = perSecond(outcomes, 'W2', 'socket.io');
      const memoryRatio =
        memory !== undefined && socketIo !== undefined && socketIo > 0
          ? ` In this run the in-memory store sustained ${(memory / socketIo).toFixed(2)}× Socket.IO's deliveries/s.`
          : '';
      return (
        'Socket.IO stores nothing; Confab on SQLite commits every message before it is delivered. With 1,000 rooms ' +
        'every row lands on pages of its own, at the per-row cost given for W6, on the same core as the fan-out. ' +
        `The in-memory target shows the cost of the rest.${memoryRatio} The offered rate doubles from step to step, ` +
        'so two servers whose ceilings lie between the same two steps both read as the lower one.'
      );
    },
  },
  {
    matches: (goal) => goal.startsWith('W2:') && goal.includes('p99'),
    title: 'W2 latency',
    text: () =>
      'At half of the sustained rate the W2 server already spends most of its core on durable writes (see above), ' +
      'and a send waits for its batch (up to 2 ms), the commit, and the core shared with the writer thread.',
  },
  {
    matches: (goal) => goal.startsWith('W1:') && (goal.includes('within 1.1×') || goal.includes("at most Socket.IO's")),
    title: 'Fan-out CPU at the reference rate (W1)',
    text: () =>
      'At 40 msg/s the events arrive 25 ms apart, so each one goes to its 1,000 members alone. Confab then makes as ' +
      'many socket writes as the raw relay, and the writes take about two thirds of the server\'s busy time in both. The ' +
      'rest of Confab\'s cost is per member: the queue of each socket, the subscription\'s seq check, and an event ' +
      'frame about 2.5 times the relay\'s (room, seq, id, sender, timestamp and client message id around the same ' +
      'content). Under load the per-socket queue joins the events of a loop turn into one write, and Confab then ' +
      'costs less per delivery than the relay: see the goal on the highest sustained rate.',
  },
];

function perSecond(outcomes: TargetOutcome[], workload: string, target: string): number | undefined {
  const value = outcomes.find((outcome) => outcome.workload === workload && outcome.target === target)?.median?.perSecond;
  return value ?? undefined;
}

/** Returns the section on limits for the goals that are not met, or nothing when all are met. */
export function limitLines(goals: GoalCheck[], outcomes: TargetOutcome[]): string[] {
  const unmet = goals.filter((goal) => goal.status === 'not met');
  const paragraphs = LIMITS.filter((limit) => unmet.some((goal) => limit.matches(goal.goal)));
  if (paragraphs.length === 0) {
    return [];
  }
  const lines = ['## What limits the goals not met', ''];
  for (const { title, text } of paragraphs) {
    lines.push(`**${title}.** ${text(outcomes)}`, '');
  }
  return lines;
}
