import type { RoomEvent } from '@confab/protocol';

/** A room update sent between nodes. Presence and typing travel through their own services. */
export interface BrokerMessage {
  kind: 'event';
  event: RoomEvent;
}

export type BrokerListener = (room: string, message: BrokerMessage) => void;

/**
 * Carries room events between the nodes of a cluster. A node subscribes to the rooms its local
 * connections have joined, and `publish` should reach every other subscribed node once. Whether the
 * publishing node receives its own message back is up to the implementation. The room hub drops
 * anything at or below a subscriber's cursor, so an echo or a repeat is harmless.
 * Delivery is best effort: a lost message is repaired from the store by the seq cursor.
 */
export interface Broker {
  start(listener: BrokerListener): Promise<void>;
  subscribe(room: string): Promise<void>;
  unsubscribe(room: string): Promise<void>;
  publish(room: string, message: BrokerMessage): Promise<void>;
  close(): Promise<void>;
}
