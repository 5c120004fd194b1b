import type { ChatMessage } from '@confab/react';

import { describeError } from './describe-error';
import type { MessageRow } from './message-row';

interface RowContext {
  ownUserId: string | null;
  /** Name shown on this client's pending messages before the first `welcome` names the user. */
  ownUserName: string;
  /** Whether this browser sent the message with that clientMessageId. */
  isOwnClientMessageId: (clientMessageId: string) => boolean;
}

/** Maps the room hook's messages to rows of the message list, marking the user's own. */
export function toMessageRows(messages: readonly ChatMessage[], context: RowContext): MessageRow[] {
  return messages.map((message) => {
    const own =
      message.status !== 'delivered' ||
      message.sender.id === context.ownUserId ||
      context.isOwnClientMessageId(message.clientMessageId);
    const row: MessageRow = {
      key: message.key,
      clientMessageId: message.clientMessageId,
      senderName: message.sender.name === '' ? context.ownUserName : message.sender.name,
      timestampMs: message.timestamp,
      content: message.content,
      own,
      status: message.status,
    };
    if (message.status === 'failed') {
      row.errorMessage = describeError(message.error);
    }
    return row;
  });
}
