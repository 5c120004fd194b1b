import type { ReceivedLog, SendAttempt } from '../../support/delivery-checker.js';
import { waitUntil } from '../../support/test-cluster.js';
import { SdkParticipant, type SdkParticipantOptions } from './sdk-participant.js';

/** The SDK users of one fault test, with the waits that every such test needs. */
export class ParticipantGroup {
  readonly participants: SdkParticipant[] = [];

  /** Creates a participant; it connects on `startAll` (or its own `start`). */
  add(options: SdkParticipantOptions): SdkParticipant {
    const participant = new SdkParticipant(options);
    this.participants.push(participant);
    return participant;
  }

  startAll(): void {
    for (const participant of this.participants) {
      participant.start();
    }
  }

  async waitUntilJoined(timeoutMs: number): Promise<void> {
    await waitUntil(
      'every participant to join its rooms',
      () => this.participants.every((participant) => participant.isJoined),
      timeoutMs,
    );
  }

  /** Seq of the highest acknowledgement any participant got in `room`, 0 before any. */
  highestAckedSeq(room: string): number {
    let highest = 0;
    for (const send of this.sends) {
      if (send.room === room && send.ack !== undefined) {
        highest = Math.max(highest, send.ack.seq);
      }
    }
    return highest;
  }

  /** Number of send frames that got a `sent` reply so far. */
  get ackCount(): number {
    return this.participants.reduce((sum, participant) => sum + participant.sends.filter((send) => send.ack !== undefined).length, 0);
  }

  /**
   * Waits until every app send has been stored (or failed) and every participant has received each
   * of its rooms up to the highest acknowledged seq.
   */
  async waitUntilSettled(timeoutMs: number): Promise<void> {
    await waitUntil(
      'every send to settle and every participant to catch up',
      () => {
        if (this.participants.some((participant) => participant.pendingSends > 0)) {
          return false;
        }
        return this.participants.every((participant) =>
          participant.options.rooms.every((room) => participant.heldSeq(room) >= this.highestAckedSeq(room)),
        );
      },
      timeoutMs,
    );
  }

  get logs(): ReceivedLog[] {
    return this.participants.map((participant) => participant.log);
  }

  get sends(): SendAttempt[] {
    return this.participants.flatMap((participant) => participant.sends);
  }

  /** App sends that the SDK gave up on, as `name: error` lines for a failure message. */
  failedSends(): string[] {
    return this.participants.flatMap((participant) =>
      participant.appSends
        .filter((send) => send.outcome === 'failed')
        .map((send) => `${participant.name}: ${String(send.error)}`),
    );
  }

  closeAll(): void {
    for (const participant of this.participants) {
      participant.close();
    }
  }
}
