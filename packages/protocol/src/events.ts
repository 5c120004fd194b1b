/** The user who caused an event, as the server authenticated them. */
export interface UserRef {
  id: string;
  name: string;
}

/**
 * Kinds of entries in a room's log. Every kind takes the next seq of the room's one order, so
 * later kinds (edits, deletions, reactions, receipts) slot in beside `message` without a new
 * sequence.
 */
export const EVENT_KINDS = ['message'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** Fields that every entry of a room's log has. */
export interface RoomEventBase {
  room: string;
  /** Position in the room's log: 1 for the first event, then exactly one more for each event. */
  seq: number;
  /** Server-assigned unique id of the event. */
  id: string;
  kind: EventKind;
  sender: UserRef;
  /** Server time at which the event was stored, in milliseconds since the Unix epoch. */
  timestamp: number;
  /** The id the sender gave the request that created the event; the idempotency key. */
  clientMessageId: string;
}

export interface MessageEvent extends RoomEventBase {
  kind: 'message';
  content: string;
}

export type RoomEvent = MessageEvent;

/** A room member with the number of connections (tabs, devices) they have in the room. */
export interface Member extends UserRef {
  devices: number;
}
