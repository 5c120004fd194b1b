import type { ConfabError, PendingMessage, RoomEvent, UserRef } from '@confab/client';

/** One row of a room's message list: a delivered event, or a message of this client still on its way. */
export interface ChatMessage {
  /**
   * React key: `event:<id>` once delivered, `pending:<clientMessageId>` before. A row changes key
   * when its message is delivered, because two users' clientMessageIds may be equal.
   */
  key: string;
  clientMessageId: string;
  /** Position in the room's log, or null while pending. */
  seq: number | null;
  /** Server-assigned id, or null while pending. */
  id: string | null;
  sender: UserRef;
  content: string;
  /** Server time of storage; for a pending message, the time the app sent it. Milliseconds since the Unix epoch. */
  timestamp: number;
  status: 'delivered' | 'pending' | 'failed';
  /** Reason of the failure, when `status` is `failed`. */
  error: ConfabError | null;
}

// Rows of delivered events are reused, so that memoized row components skip re-rendering.
const deliveredRows = new WeakMap<RoomEvent, ChatMessage>();

function deliveredRow(event: RoomEvent): ChatMessage {
  let row = deliveredRows.get(event);
  if (row === undefined) {
    row = {
      key: `event:${event.id}`,
      clientMessageId: event.clientMessageId,
      seq: event.seq,
      id: event.id,
      sender: event.sender,
      content: event.content,
      timestamp: event.timestamp,
      status: 'delivered',
      error: null,
    };
    deliveredRows.set(event, row);
  }
  return row;
}

/** Lists delivered events in seq order, then this client's pending and failed messages in send order. */
export function mergeChatMessages(
  messages: readonly RoomEvent[],
  pending: readonly PendingMessage[],
  sender: UserRef,
): ChatMessage[] {
  const rows = messages.map(deliveredRow);
  for (const message of pending) {
    rows.push({
      key: `pending:${message.clientMessageId}`,
      clientMessageId: message.clientMessageId,
      seq: null,
      id: null,
      sender,
      content: message.content,
      timestamp: message.createdAt,
      status: message.status,
      error: message.error ?? null,
    });
  }
  return rows;
}
