import { LatencyHistogram, type SerializedHistogram } from '../latency-histogram.js';
import { nowMicros } from '../monotonic-clock.js';

/** The counts of one load worker in a measurement window, in a form that crosses IPC. */
export interface CounterSnapshot {
  deliveries: number;
  latency: SerializedHistogram;
  /** Latency per client group, indexed by `ClientSpec.latencyGroup`. */
  groupLatency: SerializedHistogram[];
  acks: number;
  ackLatency: SerializedHistogram;
  errors: Record<string, number>;
}

/**
 * Counts deliveries, acknowledgements and errors of every client of one load worker. Only events
 * that arrive inside the measurement window count, so warm-up traffic and the backlog drained after
 * a step stay out of the rates. `totalDeliveries` counts every delivery, for flows that wait for a
 * known number of events.
 */
export class LoadCounters {
  windowStartMicros = Number.POSITIVE_INFINITY;
  windowEndMicros = Number.NEGATIVE_INFINITY;
  deliveries = 0;
  latency = new LatencyHistogram();
  groupLatency: LatencyHistogram[] = [];
  acks = 0;
  ackLatency = new LatencyHistogram();
  errors: Record<string, number> = {};
  totalDeliveries = 0;
  totalAcks = 0;
  lastDeliveryMicros = 0;

  /** Starts a new window and clears what the previous one counted. */
  openWindow(startMicros: number, endMicros: number): void {
    this.windowStartMicros = startMicros;
    this.windowEndMicros = endMicros;
    this.deliveries = 0;
    this.latency = new LatencyHistogram();
    this.groupLatency = [];
    this.acks = 0;
    this.ackLatency = new LatencyHistogram();
    this.errors = {};
  }

  recordDelivery(sendMicros: number, group: number): void {
    const now = nowMicros();
    this.totalDeliveries++;
    this.lastDeliveryMicros = now;
    if (now >= this.windowStartMicros && now < this.windowEndMicros) {
      this.deliveries++;
      if (sendMicros >= 0) {
        this.latency.record(now - sendMicros);
        let groupHistogram = this.groupLatency[group];
        if (groupHistogram === undefined) {
          groupHistogram = new LatencyHistogram();
          this.groupLatency[group] = groupHistogram;
        }
        groupHistogram.record(now - sendMicros);
      }
    }
  }

  recordAck(sendMicros: number): void {
    const now = nowMicros();
    this.totalAcks++;
    if (now >= this.windowStartMicros && now < this.windowEndMicros) {
      this.acks++;
      if (sendMicros >= 0) {
        this.ackLatency.record(now - sendMicros);
      }
    }
  }

  /** Counts an error under a short code (a protocol error code, `close-4004`, `connect-failed`). */
  recordError(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  snapshot(): CounterSnapshot {
    return {
      deliveries: this.deliveries,
      latency: this.latency.toJSON(),
      groupLatency: Array.from(this.groupLatency, (histogram) => (histogram ?? new LatencyHistogram()).toJSON()),
      acks: this.acks,
      ackLatency: this.ackLatency.toJSON(),
      errors: { ...this.errors },
    };
  }
}
