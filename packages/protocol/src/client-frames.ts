import { z } from 'zod';

import {
  CLIENT_MESSAGE_ID_PATTERN,
  GUEST_KEY_PATTERN,
  MAX_REQUEST_ID_LENGTH,
  MAX_TOKEN_LENGTH,
  ROOM_NAME_PATTERN,
} from './limits.js';

const requestId = z.string().min(1).max(MAX_REQUEST_ID_LENGTH);
const room = z.string().regex(ROOM_NAME_PATTERN, {
  message: 'must be 1 to 64 characters of A-Z, a-z, 0-9 and ._:- starting with a letter or digit',
});
const seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

// The length of content and names is checked after decoding, in code points, so that the server
// can reject an over-long value with `too_large` rather than a schema error.
export const authFrameSchema = z.strictObject({
  type: z.literal('auth'),
  requestId,
  token: z.string().min(1).max(MAX_TOKEN_LENGTH).optional(),
  guest: z
    .strictObject({
      name: z.string(),
      /**
       * A secret the client generates once and presents on every sign-in, so that its guest id
       * (derived from the key) stays the same across reconnects and server restarts.
       */
      key: z.string().regex(GUEST_KEY_PATTERN, { message: 'must be 16 to 128 characters of A-Z, a-z, 0-9, _ and -' }).optional(),
    })
    .optional(),
});

export const joinFrameSchema = z.strictObject({
  type: z.literal('join'),
  requestId,
  room,
  /** Seq of the last event the client holds for the room; events after it are replayed. */
  since: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** The `epoch` from `welcome` when `since` was read; a different epoch means a different log. */
  epoch: z.string().min(1).max(64).optional(),
});

export const leaveFrameSchema = z.strictObject({
  type: z.literal('leave'),
  requestId,
  room,
});

export const sendFrameSchema = z.strictObject({
  type: z.literal('send'),
  requestId,
  room,
  clientMessageId: z.string().regex(CLIENT_MESSAGE_ID_PATTERN, {
    message: 'must be 1 to 128 characters of A-Z, a-z, 0-9 and ._:-',
  }),
  content: z.string(),
});

export const historyFrameSchema = z.strictObject({
  type: z.literal('history'),
  requestId,
  room,
  /** Return the events just before this seq. */
  before: seq.optional(),
  /** Return the events just after this seq (0 for the start of the log). */
  after: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.number().int().min(1).optional(),
});

export const typingFrameSchema = z.strictObject({
  type: z.literal('typing'),
  requestId: requestId.optional(),
  room,
  typing: z.boolean(),
});

export const pingFrameSchema = z.strictObject({
  type: z.literal('ping'),
  requestId,
});

export type AuthFrame = z.infer<typeof authFrameSchema>;
export type JoinFrame = z.infer<typeof joinFrameSchema>;
export type LeaveFrame = z.infer<typeof leaveFrameSchema>;
export type SendFrame = z.infer<typeof sendFrameSchema>;
export type HistoryRequestFrame = z.infer<typeof historyFrameSchema>;
export type TypingRequestFrame = z.infer<typeof typingFrameSchema>;
export type PingFrame = z.infer<typeof pingFrameSchema>;

export type ClientFrame =
  | AuthFrame
  | JoinFrame
  | LeaveFrame
  | SendFrame
  | HistoryRequestFrame
  | TypingRequestFrame
  | PingFrame;

export type ClientFrameType = ClientFrame['type'];

// A Map, not an object literal, so that a `type` such as "__proto__" or "constructor" finds nothing.
export const CLIENT_FRAME_SCHEMAS: ReadonlyMap<string, z.ZodType<ClientFrame>> = new Map<
  string,
  z.ZodType<ClientFrame>
>([
  ['auth', authFrameSchema],
  ['join', joinFrameSchema],
  ['leave', leaveFrameSchema],
  ['send', sendFrameSchema],
  ['history', historyFrameSchema],
  ['typing', typingFrameSchema],
  ['ping', pingFrameSchema],
]);
