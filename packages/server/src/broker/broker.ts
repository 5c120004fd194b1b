import type { RoomEvent } from '@confab/protocol';

/** What nodes tell each other about a room. Presence and typing travel through their own services. */
export interface BrokerMessage {
  kind: 'event';
  event: RoomEvent;
}

export type BrokerListener = (room: string, message: BrokerMessage) => void;

/**
 * Carries room events between the nodes of a cluster. A node subscribes to the rooms its local
 * connections have joined; `publish` reaches every other subscribed node at most once. Whether the
 * publishing node hears its own message back is up to the implementation: the room hub drops
 * anything at or below a subscriber's cursor, so an echo is harmless.
 * Delivery is best effort: a lost message is repaired from the store by the seq cursor.
 */
export interface Broker {
  start(listener: BrokerListener): Promise<void>;
  subscribe(room: string): Promise<void>;
  unsubscribe(room: string): Promise<void>;
  publish(room: string, message: BrokerMessage): Promise<void>;
  close(): Promise<void>;
}
