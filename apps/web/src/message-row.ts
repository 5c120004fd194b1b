/** One row of the message list: a delivered message, or one of the user's that is not yet stored. */
export interface MessageRow {
  /** React key from the room hook. It changes once, when a pending message is delivered. */
  key: string;
  clientMessageId: string;
  senderName: string;
  /** Milliseconds since the Unix epoch: server time once stored, local send time while pending. */
  timestampMs: number;
  content: string;
  /** Whether the signed-in user sent it. */
  own: boolean;
  status: 'delivered' | 'pending' | 'failed';
  /** Reason a failed message was rejected, shown with the failed state. */
  errorMessage?: string;
}
