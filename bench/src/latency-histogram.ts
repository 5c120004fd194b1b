/** Buckets per factor of e: each bucket spans about 2% of its value, the precision of the percentiles. */
const BUCKETS_PER_E_FOLD = 50;
/** Latencies from 1 µs to about 10 minutes fit in this many buckets; longer ones go in the last. */
const BUCKET_COUNT = Math.ceil(Math.log(600e6) * BUCKETS_PER_E_FOLD) + 1;

/** A histogram of latencies in microseconds with log-spaced buckets, cheap to record and to merge. */
export class LatencyHistogram {
  readonly counts: Uint32Array;
  count = 0;
  maxMicros = 0;

  constructor() {
    this.counts = new Uint32Array(BUCKET_COUNT);
  }

  record(micros: number): void {
    const value = micros < 1 ? 1 : micros;
    const index = Math.min(BUCKET_COUNT - 1, Math.floor(Math.log(value) * BUCKETS_PER_E_FOLD));
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.count++;
    if (value > this.maxMicros) {
      this.maxMicros = value;
    }
  }

  /** Returns the value below which `fraction` of the samples fall, in milliseconds, or undefined when empty. */
  percentileMs(fraction: number): number | undefined {
    if (this.count === 0) {
      return undefined;
    }
    const rank = Math.max(1, Math.ceil(fraction * this.count));
    let seen = 0;
    for (let index = 0; index < BUCKET_COUNT; index++) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) {
        // The bucket's geometric middle, capped by the largest sample seen.
        const middleMicros = Math.exp((index + 0.5) / BUCKETS_PER_E_FOLD);
        return Math.min(middleMicros, this.maxMicros) / 1000;
      }
    }
    return this.maxMicros / 1000;
  }

  /** Returns a plain form for IPC: only the non-empty buckets, as [index, count] pairs. */
  toJSON(): SerializedHistogram {
    const buckets: Array<[number, number]> = [];
    this.counts.forEach((count, index) => {
      if (count > 0) {
        buckets.push([index, count]);
      }
    });
    return { buckets, maxMicros: this.maxMicros };
  }

  static fromJSON(serialized: SerializedHistogram): LatencyHistogram {
    const histogram = new LatencyHistogram();
    histogram.merge(serialized);
    return histogram;
  }

  merge(serialized: SerializedHistogram): void {
    for (const [index, count] of serialized.buckets) {
      this.counts[index] = (this.counts[index] ?? 0) + count;
      this.count += count;
    }
    this.maxMicros = Math.max(this.maxMicros, serialized.maxMicros);
  }
}

export interface SerializedHistogram {
  buckets: Array<[number, number]>;
  maxMicros: number;
}
