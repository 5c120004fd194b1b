import type { ErrorCode } from '@confab/protocol';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Live counts that the metrics read when scraped. */
export interface MetricsSources {
  connections(): number;
  rooms(): number;
  subscriptions(): number;
}

// Send-to-ack and store latencies of a healthy server are in the low milliseconds.
const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * The server's Prometheus metrics, in a registry of its own so that several servers in one
 * process (as in tests) do not share counters.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly messagesReceived: Counter;
  readonly deliveries: Counter;
  readonly sendToAck: Histogram;
  readonly storeAppend: Histogram;
  readonly storeBatchSize: Histogram;
  readonly storeWrite: Histogram;
  readonly brokerPublished: Counter;
  readonly brokerReceived: Counter;
  readonly resumes: Counter<'result'>;
  readonly droppedEphemeral: Counter<'kind'>;
  readonly slowConsumerCloses: Counter;
  readonly rateLimited: Counter;
  readonly errors: Counter<'code'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'confab_' });

    new Gauge({
      name: 'confab_connections',
      help: 'Open WebSocket connections on this node.',
      registers,
      collect() {
        this.set(sources.connections());
      },
    });
    new Gauge({
      name: 'confab_rooms',
      help: 'Rooms with at least one member connected to this node.',
      registers,
      collect() {
        this.set(sources.rooms());
      },
    });
    new Gauge({
      name: 'confab_room_members',
      help: 'Room memberships of connections on this node (a connection in three rooms counts three times).',
      registers,
      collect() {
        this.set(sources.subscriptions());
      },
    });

    this.messagesReceived = new Counter({
      name: 'confab_messages_received_total',
      help: 'Messages stored and acknowledged (duplicates excluded).',
      registers,
    });
    this.deliveries = new Counter({
      name: 'confab_deliveries_total',
      help: 'Event frames sent to connections, live and caught up.',
      registers,
    });
    this.sendToAck = new Histogram({
      name: 'confab_send_to_ack_seconds',
      help: 'Time from receiving a send frame to sending its acknowledgement.',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.storeAppend = new Histogram({
      name: 'confab_store_append_seconds',
      help: 'Time for the store to commit one append, including the wait for its batch.',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.storeBatchSize = new Histogram({
      name: 'confab_store_batch_size',
      help: 'Appends written in one store transaction (group commit).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers,
    });
    this.storeWrite = new Histogram({
      name: 'confab_store_write_seconds',
      help: 'Time to write and commit one store transaction.',
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.brokerPublished = new Counter({
      name: 'confab_broker_published_total',
      help: 'Room events published to the broker for other nodes.',
      registers,
    });
    this.brokerReceived = new Counter({
      name: 'confab_broker_received_total',
      help: 'Room events received from the broker.',
      registers,
    });
    this.resumes = new Counter({
      name: 'confab_resumes_total',
      help: 'Joins that carried a since cursor, by result: resumed, or reset when the cursor was not from this log.',
      labelNames: ['result'],
      registers,
    });
    this.droppedEphemeral = new Counter({
      name: 'confab_dropped_ephemeral_total',
      help: 'Typing and presence frames dropped for connections over their send-buffer soft cap.',
      labelNames: ['kind'],
      registers,
    });
    this.slowConsumerCloses = new Counter({
      name: 'confab_slow_consumer_closes_total',
      help: 'Connections closed because their send buffer stayed over its cap.',
      registers,
    });
    this.rateLimited = new Counter({
      name: 'confab_rate_limited_total',
      help: 'Sends rejected by the per-user rate limit.',
      registers,
    });
    this.errors = new Counter({
      name: 'confab_errors_total',
      help: 'Error frames sent to clients, by error code.',
      labelNames: ['code'],
      registers,
    });
  }

  countError(code: ErrorCode): void {
    this.errors.inc({ code });
  }
}
