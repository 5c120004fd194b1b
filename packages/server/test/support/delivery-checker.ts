import assert from 'node:assert/strict';

import type { RoomEvent } from '@confab/protocol';

/** Everything one client received, across all of its connections, in arrival order. */
export interface ReceivedLog {
  client: string;
  events: RoomEvent[];
  /**
   * Per room, the first seq the client must hold: its first join's `headSeq + 1`. Leave a room out
   * when the client's log may start anywhere (then it only has to be gap-free from its first event).
   */
  firstSeq?: Record<string, number>;
}

/** A send that a client made, acknowledged or not. */
export interface SendAttempt {
  room: string;
  senderId: string;
  clientMessageId: string;
  content: string;
  /** The `sent` acknowledgement, if one arrived. */
  ack?: { seq: number; messageId: string };
}

export interface DeliveryExpectations {
  /**
   * Whether every client must hold each room's log up to the highest acknowledged seq. Set it once
   * the test has waited for delivery to finish.
   */
  complete: boolean;
}

/**
 * Checks what clients received against what was sent. Returns the violations found, empty when
 * delivery was correct:
 * - per client and room, seqs strictly increase by exactly 1 (no gap, duplicate or reordering);
 * - a seq names the same event in every client's log and in its acknowledgement;
 * - every event comes from a send attempt (nothing unsent), and each send is stored at most once;
 * - every acknowledged send is in the log of every client whose window covers its seq;
 * - with `complete`, every client's window reaches each room's highest acknowledged seq.
 */
export function findDeliveryViolations(
  logs: ReceivedLog[],
  sends: SendAttempt[],
  expectations: DeliveryExpectations = { complete: true },
): string[] {
  const violations: string[] = [];
  const bySendKey = new Map<string, SendAttempt[]>();
  for (const send of sends) {
    const key = sendKey(send.room, send.senderId, send.clientMessageId);
    const list = bySendKey.get(key) ?? [];
    list.push(send);
    bySendKey.set(key, list);
  }

  // The one true event at each (room, seq), taken from the first log or ack that shows it.
  const canonical = new Map<string, { event: Pick<RoomEvent, 'id' | 'clientMessageId' | 'content'> & { senderId: string }; source: string }>();
  function agree(room: string, seq: number, event: { id: string; clientMessageId: string; content: string; senderId: string }, source: string): void {
    const key = `${room}#${seq}`;
    const known = canonical.get(key);
    if (known === undefined) {
      canonical.set(key, { event, source });
      return;
    }
    for (const field of ['id', 'clientMessageId', 'content', 'senderId'] as const) {
      if (known.event[field] !== event[field]) {
        violations.push(
          `${room} seq ${seq}: ${source} has ${field} ${JSON.stringify(event[field])} but ${known.source} has ${JSON.stringify(known.event[field])}`,
        );
        return;
      }
    }
  }

  const highestAcked = new Map<string, number>();
  for (const send of sends) {
    if (send.ack === undefined) {
      continue;
    }
    agree(
      send.room,
      send.ack.seq,
      { id: send.ack.messageId, clientMessageId: send.clientMessageId, content: send.content, senderId: send.senderId },
      `ack of ${send.clientMessageId}`,
    );
    highestAcked.set(send.room, Math.max(highestAcked.get(send.room) ?? 0, send.ack.seq));
  }

  // Seqs at which each (room, sender, clientMessageId) was seen: more than one means a double store.
  const seqsOfSend = new Map<string, Set<number>>();

  for (const log of logs) {
    const byRoom = new Map<string, RoomEvent[]>();
    for (const event of log.events) {
      const list = byRoom.get(event.room) ?? [];
      list.push(event);
      byRoom.set(event.room, list);
    }

    const rooms = new Set([...byRoom.keys(), ...Object.keys(log.firstSeq ?? {})]);
    for (const room of rooms) {
      const events = byRoom.get(room) ?? [];
      const firstSeq = log.firstSeq?.[room] ?? events[0]?.seq ?? 1;
      let expected = firstSeq;
      for (const event of events) {
        if (event.seq !== expected) {
          const what = event.seq < expected ? 'duplicate or reordered' : 'gap';
          violations.push(`${log.client} ${room}: expected seq ${expected}, got ${event.seq} (${what})`);
          expected = Math.max(expected, event.seq + 1);
          continue;
        }
        expected++;

        const source = `${log.client}`;
        agree(room, event.seq, { id: event.id, clientMessageId: event.clientMessageId, content: event.content, senderId: event.sender.id }, source);

        const key = sendKey(room, event.sender.id, event.clientMessageId);
        const attempts = bySendKey.get(key);
        if (attempts === undefined) {
          violations.push(`${log.client} ${room} seq ${event.seq}: event ${event.clientMessageId} from ${event.sender.id} was never sent`);
        } else if (!attempts.some((attempt) => attempt.content === event.content)) {
          violations.push(`${log.client} ${room} seq ${event.seq}: content of ${event.clientMessageId} differs from every send of it`);
        }
        const seqs = seqsOfSend.get(key) ?? new Set<number>();
        seqs.add(event.seq);
        seqsOfSend.set(key, seqs);
      }

      const lastHeld = expected - 1;
      const head = highestAcked.get(room) ?? 0;
      if (expectations.complete && lastHeld < head) {
        violations.push(`${log.client} ${room}: holds up to seq ${lastHeld}, but seq ${head} was acknowledged`);
      }
    }
  }

  for (const [key, seqs] of seqsOfSend) {
    if (seqs.size > 1) {
      violations.push(`send ${key.replaceAll('\u0000', ' / ')} was stored at seqs ${[...seqs].sort((a, b) => a - b).join(', ')}`);
    }
  }
  for (const send of sends) {
    if (send.ack === undefined) {
      continue;
    }
    const seqs = seqsOfSend.get(sendKey(send.room, send.senderId, send.clientMessageId));
    if (seqs !== undefined && !seqs.has(send.ack.seq)) {
      violations.push(`send ${send.clientMessageId} was acknowledged as seq ${send.ack.seq} but delivered as ${[...seqs].join(', ')}`);
    }
  }

  return violations;
}

/** Fails with every violation listed when delivery was not correct. */
export function assertDelivery(logs: ReceivedLog[], sends: SendAttempt[], expectations?: DeliveryExpectations): void {
  const violations = findDeliveryViolations(logs, sends, expectations);
  const shown = violations.slice(0, 20);
  const more = violations.length > shown.length ? `\n... and ${violations.length - shown.length} more` : '';
  assert.deepEqual(shown, [], `delivery violations:\n${shown.join('\n')}${more}`);
}

function sendKey(room: string, senderId: string, clientMessageId: string): string {
  return `${room}\u0000${senderId}\u0000${clientMessageId}`;
}
