import type { RoomEvent, ServerFrame } from '@confab/protocol';
import type { Logger } from 'pino';

import type { Broker } from './broker/broker.js';
import type { Subscription } from './subscription.js';
import { encodeTextFrame } from './wire-frame.js';

/** The rooms that this node's connections have joined, and fan-out of frames to them. */
export class RoomHub {
  private readonly rooms = new Map<string, Set<Subscription>>();
  private subscriptionTotal = 0;

  constructor(
    private readonly broker: Broker,
    private readonly logger: Logger,
    /** Told how many event frames each fan-out queued, for the deliveries metric. */
    private readonly countDeliveries: (count: number) => void = () => {},
  ) {}

  get roomCount(): number {
    return this.rooms.size;
  }

  /** Room memberships of local connections, summed over rooms. */
  get subscriptionCount(): number {
    return this.subscriptionTotal;
  }

  add(subscription: Subscription): void {
    let members = this.rooms.get(subscription.room);
    if (members === undefined) {
      members = new Set();
      this.rooms.set(subscription.room, members);
      this.broker.subscribe(subscription.room).catch((error: unknown) => {
        this.logger.error({ err: error, room: subscription.room }, 'broker subscribe failed');
      });
    }
    if (!members.has(subscription)) {
      members.add(subscription);
      this.subscriptionTotal++;
    }
  }

  remove(subscription: Subscription): void {
    subscription.close();
    const members = this.rooms.get(subscription.room);
    if (members === undefined || !members.delete(subscription)) {
      return;
    }
    this.subscriptionTotal--;
    if (members.size > 0) {
      return;
    }
    this.rooms.delete(subscription.room);
    this.broker.unsubscribe(subscription.room).catch((error: unknown) => {
      this.logger.error({ err: error, room: subscription.room }, 'broker unsubscribe failed');
    });
  }

  /** Offers a stored event to every local subscriber, framing it once for all of them. */
  deliver(event: RoomEvent): void {
    const members = this.rooms.get(event.room);
    if (members === undefined) {
      return;
    }
    const encoded = encodeTextFrame(JSON.stringify({ type: 'event', event }));
    let delivered = 0;
    for (const subscription of members) {
      if (subscription.offer(event, encoded)) {
        delivered++;
      }
    }
    this.countDeliveries(delivered);
  }

  /**
   * Sends an ephemeral frame (presence, typing) to the started subscribers of a room, except those
   * of `exceptUserId`. A slow reader may have it dropped.
   */
  broadcast(room: string, frame: ServerFrame, kind: 'typing' | 'presence', exceptUserId?: string): void {
    const members = this.rooms.get(room);
    if (members === undefined) {
      return;
    }
    const encoded = encodeTextFrame(JSON.stringify(frame));
    for (const subscription of members) {
      if (subscription.isStarted && subscription.owner.userId !== exceptUserId) {
        subscription.owner.sendEncoded(encoded, kind, room);
      }
    }
  }
}
