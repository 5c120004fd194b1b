import type { ClientSpec } from '../load/bench-client.js';
import { signBenchToken } from '../load/jwt-signer.js';
import type { FleetConnectResult } from '../load/load-fleet.js';
import type { RunningTarget } from '../targets/running-target.js';
import type { RunContext } from './workload.js';

/** Share of connections that may fail before a run is called failed rather than measured. */
const MAX_FAILED_CONNECTION_FRACTION = 0.01;

/**
 * Builds `count` client specs: client i is user `<prefix>-u<i>` (one user per connection, so no
 * per-user connection cap applies), joins `roomOf(i)`, and connects to node `nodeOf(i)`.
 */
export function planClients(
  context: RunContext,
  count: number,
  roomOf: (index: number) => string,
  nodeOf: (index: number) => number = () => 0,
): ClientSpec[] {
  return Array.from({ length: count }, (_unused, index) => {
    const userId = `${context.roomPrefix}-u${index}`;
    return {
      userId,
      token: signBenchToken(userId),
      rooms: [roomOf(index)],
      urlIndex: nodeOf(index),
      latencyGroup: nodeOf(index),
    };
  });
}

/** Returns a room name unique to this run. */
export function roomName(context: RunContext, label: string | number): string {
  return `${context.roomPrefix}-r${label}`;
}

/**
 * Handshakes under way at once when a workload connects its clients. Confab closes a connection
 * that has not authenticated within 5 s (authTimeoutMs), and joins into one large room cost
 * O(members) each for presence, so a wider storm on a busy machine loses connections to that timer.
 */
export const SETUP_CONCURRENCY = 100;
/** Handshakes under way at once when every client joins the same large room. */
export const ONE_ROOM_SETUP_CONCURRENCY = 50;

/** Connects the clients and throws when more than 1% of them failed. */
export async function connectClients(
  context: RunContext,
  target: RunningTarget,
  specs: ClientSpec[],
  concurrency = SETUP_CONCURRENCY,
): Promise<FleetConnectResult> {
  const result = await context.fleet.connect(target.spec.protocol, target.urls, specs, concurrency);
  if (result.failed > specs.length * MAX_FAILED_CONNECTION_FRACTION) {
    throw new Error(
      `${result.failed} of ${specs.length} connections to ${target.spec.id} failed; first error: ${result.firstError ?? 'none'}`,
    );
  }
  return result;
}

/** Sums error counts. */
export function countErrors(errors: Record<string, number>): number {
  return Object.values(errors).reduce((total, count) => total + count, 0);
}
