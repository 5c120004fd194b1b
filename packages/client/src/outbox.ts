/**
 * State of an outbox entry. A `queued` entry waits to be transmitted, and an `inflight` one
 * awaits its ack. An `acked` entry is stored by the server but not yet delivered back to this
 * client. A `failed` entry was rejected and waits for the app to retry or discard it.
 */
export type OutboxStatus = 'queued' | 'inflight' | 'acked' | 'failed';

export interface OutboxEntry<E = unknown> {
  /** Idempotency key, fixed when the message is first queued and reused by every resend. */
  readonly clientMessageId: string;
  readonly content: string;
  /** Time the app sent the message, in milliseconds since the Unix epoch. */
  readonly createdAt: number;
  status: OutboxStatus;
  /** Retryable failures since the message was queued or last retried by the app. */
  failures: number;
  /** Earliest time of the next transmission, in milliseconds since the Unix epoch. */
  notBefore: number;
  /** The seq the server stored the message under, once acknowledged. */
  seq?: number;
  /** Reason of the failure, when `status` is `failed`. */
  error?: E;
}

/** Next step of the transmitter. */
export type OutboxAction<E> =
  | { kind: 'send'; entry: OutboxEntry<E> }
  | { kind: 'wait'; untilMs: number }
  | { kind: 'idle' };

/**
 * Messages of one room that the server has not yet confirmed and delivered back, in the order the
 * app sent them. One message is in flight at a time, so the server stores them in that order even
 * when one of them has to wait for a rate limit or a reconnect.
 */
export class Outbox<E = unknown> {
  #entries: OutboxEntry<E>[] = [];

  get size(): number {
    return this.#entries.length;
  }

  entries(): readonly OutboxEntry<E>[] {
    return this.#entries;
  }

  get(clientMessageId: string): OutboxEntry<E> | undefined {
    return this.#entries.find((entry) => entry.clientMessageId === clientMessageId);
  }

  add(clientMessageId: string, content: string, nowMs: number): OutboxEntry<E> {
    if (this.get(clientMessageId) !== undefined) {
      throw new Error(`outbox already contains clientMessageId ${clientMessageId}`);
    }
    const entry: OutboxEntry<E> = {
      clientMessageId,
      content,
      createdAt: nowMs,
      status: 'queued',
      failures: 0,
      notBefore: nowMs,
    };
    this.#entries.push(entry);
    return entry;
  }

  /** Decides the next step: send the oldest unconfirmed entry, wait for its retry time, or idle. */
  nextAction(nowMs: number): OutboxAction<E> {
    const head = this.#entries.find((entry) => entry.status === 'queued' || entry.status === 'inflight');
    if (head === undefined || head.status === 'inflight') {
      return { kind: 'idle' };
    }
    if (head.notBefore > nowMs) {
      return { kind: 'wait', untilMs: head.notBefore };
    }
    return { kind: 'send', entry: head };
  }

  markInflight(clientMessageId: string): void {
    this.#require(clientMessageId).status = 'inflight';
  }

  /** Records the server's ack. The entry stays until its event is delivered (`removeDeliveredUpTo`). */
  acknowledge(clientMessageId: string, seq: number): void {
    const entry = this.get(clientMessageId);
    if (entry === undefined || entry.status === 'failed') {
      return;
    }
    entry.status = 'acked';
    entry.seq = seq;
  }

  /** Puts an entry back in the queue after a retryable failure, not to be sent before `notBeforeMs`. */
  defer(clientMessageId: string, notBeforeMs: number): void {
    const entry = this.#require(clientMessageId);
    entry.status = 'queued';
    entry.failures++;
    entry.notBefore = notBeforeMs;
  }

  /** Puts every in-flight entry back in the queue, for example when the connection drops. */
  requeueInflight(): void {
    for (const entry of this.#entries) {
      if (entry.status === 'inflight') {
        entry.status = 'queued';
      }
    }
  }

  fail(clientMessageId: string, error: E): void {
    const entry = this.#require(clientMessageId);
    entry.status = 'failed';
    entry.error = error;
  }

  /** Fails every entry the server has not stored; returns them. */
  failUnsent(error: E): OutboxEntry<E>[] {
    const failed: OutboxEntry<E>[] = [];
    for (const entry of this.#entries) {
      if (entry.status === 'queued' || entry.status === 'inflight') {
        entry.status = 'failed';
        entry.error = error;
        failed.push(entry);
      }
    }
    return failed;
  }

  /**
   * Queues a failed entry again, under the same clientMessageId, behind every other entry:
   * messages the app sent since have been stored by now and come first.
   */
  retry(clientMessageId: string, nowMs: number): OutboxEntry<E> {
    const entry = this.#require(clientMessageId);
    if (entry.status !== 'failed') {
      throw new Error(`outbox entry ${clientMessageId} is ${entry.status}, and only failed entries can be retried`);
    }
    this.#entries = this.#entries.filter((other) => other !== entry);
    entry.status = 'queued';
    entry.failures = 0;
    entry.notBefore = nowMs;
    delete entry.error;
    this.#entries.push(entry);
    return entry;
  }

  remove(clientMessageId: string): OutboxEntry<E> | undefined {
    const entry = this.get(clientMessageId);
    if (entry !== undefined) {
      this.#entries = this.#entries.filter((other) => other !== entry);
    }
    return entry;
  }

  /** Removes the acknowledged entries whose seq has been delivered; returns them. */
  removeDeliveredUpTo(lastSeq: number): OutboxEntry<E>[] {
    const delivered = this.#entries.filter(
      (entry) => entry.status === 'acked' && entry.seq !== undefined && entry.seq <= lastSeq,
    );
    if (delivered.length > 0) {
      this.#entries = this.#entries.filter((entry) => !delivered.includes(entry));
    }
    return delivered;
  }

  #require(clientMessageId: string): OutboxEntry<E> {
    const entry = this.get(clientMessageId);
    if (entry === undefined) {
      throw new Error(`outbox has no entry with clientMessageId ${clientMessageId}`);
    }
    return entry;
  }
}
