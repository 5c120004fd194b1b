/** Seqs missing between the last delivered event and the oldest buffered one. */
export interface SequenceGap {
  /** Seq of the last delivered event; the first missing seq is one more. */
  afterSeq: number;
  /** Seq of the oldest buffered event; the last missing seq is one less. */
  beforeSeq: number;
}

/**
 * Puts one room's events in seq order for delivery: each seq once, none skipped. Events that
 * arrive ahead of a missing seq wait in a buffer until the missing ones are pushed (from a
 * history request) or `skipGap` gives up on them.
 */
export class EventSequencer<E extends { seq: number }> {
  #lastSeq: number;
  readonly #buffered = new Map<number, E>();

  /** `lastSeq` is the seq of the last event the app already has (0 for none). */
  constructor(lastSeq: number) {
    this.#lastSeq = lastSeq;
  }

  /** Seq of the last delivered event. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  get bufferedCount(): number {
    return this.#buffered.size;
  }

  /** The range to fetch, or null when nothing is waiting. */
  get gap(): SequenceGap | null {
    if (this.#buffered.size === 0) {
      return null;
    }
    let oldest = Number.POSITIVE_INFINITY;
    for (const seq of this.#buffered.keys()) {
      oldest = Math.min(oldest, seq);
    }
    return { afterSeq: this.#lastSeq, beforeSeq: oldest };
  }

  /**
   * Takes events in any order and returns the ones now deliverable, ascending and contiguous
   * with what came before. Events at or below `lastSeq` are duplicates and are dropped.
   */
  push(events: Iterable<E>): E[] {
    for (const event of events) {
      if (event.seq > this.#lastSeq && !this.#buffered.has(event.seq)) {
        this.#buffered.set(event.seq, event);
      }
    }
    return this.#drain();
  }

  /**
   * Delivers everything buffered despite the gap before it. Only for when the missing events
   * cannot be fetched; returns the events in seq order.
   */
  skipGap(): E[] {
    const gap = this.gap;
    if (gap === null) {
      return [];
    }
    this.#lastSeq = gap.beforeSeq - 1;
    return this.#drain();
  }

  #drain(): E[] {
    const ready: E[] = [];
    let next = this.#buffered.get(this.#lastSeq + 1);
    while (next !== undefined) {
      this.#buffered.delete(next.seq);
      this.#lastSeq = next.seq;
      ready.push(next);
      next = this.#buffered.get(this.#lastSeq + 1);
    }
    return ready;
  }
}
