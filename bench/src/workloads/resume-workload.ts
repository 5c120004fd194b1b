import type { ClientSpec } from '../load/bench-client.js';
import { signBenchToken } from '../load/jwt-signer.js';
import { CONFAB_MEMORY, CONFAB_POSTGRES, CONFAB_SQLITE_FULL } from '../targets/target-spec.js';
import { connectClients, planClients, roomName } from './client-plan.js';
import { emptyMetrics, type Workload } from './workload.js';

/** Rooms one publisher joins; Confab's default limit per connection is 100. */
const ROOMS_PER_PUBLISHER = 50;
/** Publishing rate while the log is filled, in messages per second. */
const FILL_RATE_PER_SECOND = 2000;
/** Bound on one client's resume, in milliseconds. */
const RESUME_TIMEOUT_MS = 30_000;

/** W5: clients reconnect with their cursor and receive the events they missed, from the store. */
export const resumeWorkload: Workload = {
  id: 'W5',
  title: 'Resume',
  unit: 'replayed events/s',
  latencyMeaning: 'reconnect start to the last missed event received',
  targets: [CONFAB_MEMORY, CONFAB_SQLITE_FULL, CONFAB_POSTGRES],
  extraColumns: [
    { key: 'resumesPerSecond', label: 'resumes/s', format: 'count' },
    { key: 'failed', label: 'failed resumes', format: 'count' },
  ],
  describe: (scale) =>
    `${scale.resume.rooms} rooms of ${scale.resume.clientsPerRoom} clients; each client has seen ` +
    `${scale.resume.seenEvents} events, disconnects, misses ${scale.resume.missedEvents}, then all reconnect ` +
    `(${scale.resume.concurrency} at once) with \`since\` and the epoch`,

  async run(context, target) {
    const { rooms, clientsPerRoom, seenEvents, missedEvents, concurrency } = context.scale.resume;
    const { fleet, scale } = context;
    const resumerCount = rooms * clientsPerRoom;
    const roomOf = (index: number): string => roomName(context, Math.floor(index / clientsPerRoom));
    await connectClients(context, target, planClients(context, resumerCount, roomOf));

    const publisherSpecs: ClientSpec[] = [];
    for (let first = 0; first < rooms; first += ROOMS_PER_PUBLISHER) {
      const userId = `${context.roomPrefix}-publisher${first}`;
      const publisherRooms = Array.from({ length: Math.min(ROOMS_PER_PUBLISHER, rooms - first) }, (_unused, offset) =>
        roomName(context, first + offset),
      );
      publisherSpecs.push({ userId, token: signBenchToken(userId), rooms: publisherRooms, urlIndex: 0 });
    }
    await connectClients(context, target, publisherSpecs);
    const senders = publisherSpecs.flatMap((spec, index) =>
      spec.rooms.map((room) => ({ client: resumerCount + index, room })),
    );

    const seen = await fleet.sendCounted(senders, seenEvents, FILL_RATE_PER_SECOND, scale.payloadBytes, true);
    await fleet.settle(200, 10_000);
    const resumers = Array.from({ length: resumerCount }, (_unused, index) => index);
    await fleet.disconnect(resumers);
    const missed = await fleet.sendCounted(senders, missedEvents, FILL_RATE_PER_SECOND, scale.payloadBytes, true);
    if (seen.acked < seen.sent || missed.acked < missed.sent) {
      throw new Error(`only ${seen.acked + missed.acked} of ${seen.sent + missed.sent} sends were acknowledged while filling the log`);
    }

    const before = target.sample();
    const result = await fleet.resume(resumers, target.urls, missedEvents, concurrency, RESUME_TIMEOUT_MS);
    const after = target.sample();

    const metrics = emptyMetrics();
    const seconds = result.durationMs / 1000;
    const replayed = result.completed * missedEvents;
    metrics.perSecond = replayed / seconds;
    metrics.cpuMicrosPerUnit = replayed > 0 ? (after.cpuMicros - before.cpuMicros) / replayed : null;
    metrics.p50Ms = result.latency.percentileMs(0.5) ?? null;
    metrics.p99Ms = result.latency.percentileMs(0.99) ?? null;
    metrics.rssBytes = after.rssBytes;
    metrics.errors = result.failed;
    metrics.serverSaturated = (after.cpuMicros - before.cpuMicros) / (seconds * 1e6) >= 0.9;
    metrics.contended = (after.runQueueWaitMicros - before.runQueueWaitMicros) / (seconds * 1e6) >= 0.2;
    metrics.details = {
      resumesPerSecond: result.completed / seconds,
      failed: result.failed,
      firstError: result.firstError ?? null,
    };
    return metrics;
  },
};
