import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConfabError } from '@confab/client';
import type { ChatMessage } from '@confab/react';

import { countUnread } from '../src/count-unread.js';
import { toMessageRows } from '../src/to-message-rows.js';

function delivered(seq: number, senderId: string, clientMessageId: string): ChatMessage {
  return {
    key: `event:${seq}`,
    clientMessageId,
    seq,
    id: `id-${seq}`,
    sender: { id: senderId, name: senderId },
    content: `content ${seq}`,
    timestamp: 1_000 * seq,
    status: 'delivered',
    error: null,
  };
}

const FAILED: ChatMessage = {
  key: 'pending:c-9',
  clientMessageId: 'c-9',
  seq: null,
  id: null,
  sender: { id: '', name: '' },
  content: 'too long',
  timestamp: 9_000,
  status: 'failed',
  error: new ConfabError('too_large', 'content is 5000 code points, more than 4000'),
};

test('toMessageRows marks own messages', () => {
  const messages = [delivered(1, 'me', 'c-1'), delivered(2, 'other', 'c-2'), delivered(3, 'old-me', 'c-3'), FAILED];
  const rows = toMessageRows(messages, {
    ownUserId: 'me',
    ownUserName: 'alice',
    isOwnClientMessageId: (id) => id === 'c-3',
  });

  assert.deepEqual(
    rows.map((row) => row.own),
    [true, false, true, true],
  );
  assert.equal(rows[3]?.senderName, 'alice', 'a pending row before welcome takes the signed-in name');
  assert.equal(rows[3]?.status, 'failed');
  assert.equal(rows[3]?.errorMessage, 'the message is longer than this server allows');
  assert.equal(rows[1]?.errorMessage, undefined);
});

test('countUnread skips own and seen messages', () => {
  const messages = [delivered(1, 'other', 'c-1'), delivered(2, 'me', 'c-2'), delivered(3, 'other', 'c-3'), FAILED];
  const isOwn = (message: ChatMessage) => message.sender.id === 'me';

  assert.equal(countUnread(messages, 0, isOwn), 2);
  assert.equal(countUnread(messages, 1, isOwn), 1);
  assert.equal(countUnread(messages, 3, isOwn), 0);
  assert.equal(countUnread([], 0, isOwn), 0);
});
