import type { ChatMessage } from '@confab/react';

/**
 * Counts the delivered messages after `lastSeenSeq` that someone else sent, the number shown on a
 * room that is not open.
 */
export function countUnread(
  messages: readonly ChatMessage[],
  lastSeenSeq: number,
  isOwn: (message: ChatMessage) => boolean,
): number {
  let unread = 0;
  for (const message of messages) {
    if (message.seq !== null && message.seq > lastSeenSeq && !isOwn(message)) {
      unread++;
    }
  }
  return unread;
}
