import type { RoomEvent, SentFrame } from '@confab/protocol';

import type { TestClient } from './test-client.js';

/** Pause between two bursts of `sendUntilClosed`, in milliseconds. */
const SEND_INTERVAL_MS = 2;
/** Frames per burst of `sendUntilClosed`, so that many sends are under way at any moment. */
const SEND_BURST = 10;
const MAX_HISTORY_PAGES = 1000;

/** Returns the integers from `from` to `to`, both included, which are the seqs of a gap-free log. */
export function seqRange(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index);
}

/** Returns the `sent` acks that a client has received so far. */
export function acksOf(client: TestClient): SentFrame[] {
  return client.frames.filter((frame): frame is SentFrame => frame.type === 'sent');
}

/** Reads a room's whole log, oldest first, in `after` pages of 100. */
export async function readWholeRoom(client: TestClient, room: string): Promise<RoomEvent[]> {
  const events: RoomEvent[] = [];
  for (let pages = 0; pages < MAX_HISTORY_PAGES; pages++) {
    const reply = await client.request({ type: 'history', room, after: events.at(-1)?.seq ?? 0, limit: 100 });
    if (reply.type !== 'history') {
      throw new Error(`history of ${room} failed: ${JSON.stringify(reply)}`);
    }
    events.push(...reply.events);
    if (!reply.hasMore) {
      return events;
    }
  }
  throw new Error(`history of ${room} did not end within ${MAX_HISTORY_PAGES} pages`);
}

/**
 * Sends bursts of messages numbered `<label>-1`, `<label>-2`, ... without waiting for acks, until
 * the socket closes. Each number is both the request id and the clientMessageId. The acks land in
 * `client.frames`, where `acksOf` finds them.
 */
export function sendUntilClosed(client: TestClient, room: string, label: string): Promise<void> {
  let sequence = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (client.ws.readyState !== client.ws.OPEN) {
        clearInterval(timer);
        resolve();
        return;
      }
      for (let i = 0; i < SEND_BURST; i++) {
        sequence++;
        client.send({
          type: 'send',
          requestId: `${label}-${sequence}`,
          room,
          clientMessageId: `${label}-${sequence}`,
          content: `${label} message ${sequence}`,
        });
      }
    }, SEND_INTERVAL_MS);
  });
}
