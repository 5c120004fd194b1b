import type { RoomEvent } from '@confab/protocol';
import type { Logger } from 'pino';

import type { Broker, BrokerListener, BrokerMessage } from '../broker/broker.js';
import { defineScript, type RedisLink } from './redis-link.js';
import type { RoomChannelMessage, RoomChannels } from './room-channels.js';

/** How long the copy of a room's newest event stays in Redis after its last publish. */
const LAST_EVENT_TTL_MS = 24 * 60 * 60 * 1000;
/** Wait before publishing held-back events again after a failed attempt, in milliseconds. */
const FLUSH_RETRY_MS = 1000;

// Publishes an event and keeps a copy of the room's newest event beside the channel, in one atomic
// step. A node that subscribes (or re-subscribes after a lost connection) reads the copy, so an
// event published while it was not listening still reaches it: its seq shows the gap, and the
// subscriber reads the missing range from the store. Only a higher seq replaces the copy, because
// nodes may publish a room's events slightly out of order.
// KEYS[1]: copy; ARGV: channel, payload, seq, ttl in ms.
const PUBLISH_EVENT = defineScript(`
local stored = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
if tonumber(ARGV[3]) > stored then
  redis.call('HSET', KEYS[1], 'seq', ARGV[3], 'payload', ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('PUBLISH', ARGV[1], ARGV[2])
`);

interface EventMessage extends RoomChannelMessage {
  kind: 'event';
  event: RoomEvent;
}

/**
 * Carries room events between nodes over Redis pub/sub: one PUBLISH per event on the room's channel,
 * whatever the number of recipients. While Redis is away, the newest unpublished event of each room
 * is kept and published when Redis returns, so other nodes learn of the gap without waiting for
 * the room's next message.
 */
export class RedisBroker implements Broker {
  private readonly pending = new Map<string, BrokerMessage>();
  private readonly rooms = new Set<string>();
  private listener: BrokerListener = () => {};
  private flushing = false;
  /** Whether a read of the rooms' newest events failed or could not run and is still to be made. */
  private newestReadOwed = false;

  constructor(
    private readonly link: RedisLink,
    private readonly channels: RoomChannels,
    private readonly logger: Logger,
  ) {
    link.retain();
  }

  async start(listener: BrokerListener): Promise<void> {
    this.listener = listener;
    this.channels.on('event', (room, message) => this.receive(room, message));
    this.link.onCommandsReady(() => {
      void this.flushPending();
      if (this.newestReadOwed) {
        void this.readNewest([...this.rooms]);
      }
    });
    this.link.onSubscriberRecovered(() => void this.readNewest([...this.rooms]));
    await this.link.connect();
  }

  async subscribe(room: string): Promise<void> {
    this.rooms.add(room);
    await this.channels.subscribe(room);
    await this.readNewest([room]);
  }

  async unsubscribe(room: string): Promise<void> {
    this.rooms.delete(room);
    await this.channels.unsubscribe(room);
  }

  async publish(room: string, message: BrokerMessage): Promise<void> {
    if (!this.link.isReady) {
      this.keepForLater(room, message);
      return;
    }
    try {
      await this.send(room, message);
      if (this.pending.size > 0) {
        void this.flushPending();
      }
    } catch (error) {
      this.logger.warn({ err: error, room, seq: message.event.seq }, 'Redis publish failed; publishing when Redis returns');
      this.keepForLater(room, message);
    }
  }

  async close(): Promise<void> {
    if (this.pending.size > 0) {
      this.logger.warn({ rooms: this.pending.size }, 'closing with unpublished events; other nodes catch up on the next one');
    }
    await this.link.release();
  }

  private async send(room: string, message: BrokerMessage): Promise<void> {
    const payload: EventMessage = { node: this.link.nodeInstanceId, kind: 'event', event: message.event };
    await this.link.runScript(
      PUBLISH_EVENT,
      [this.newestKey(room)],
      [this.channels.channel(room), JSON.stringify(payload), String(message.event.seq), String(LAST_EVENT_TTL_MS)],
    );
  }

  private receive(room: string, message: RoomChannelMessage): void {
    const event = (message as EventMessage).event;
    if (typeof event !== 'object' || event === null || event.room !== room || !Number.isSafeInteger(event.seq)) {
      this.logger.warn({ room, node: message.node }, 'dropped a malformed event message from Redis');
      return;
    }
    this.listener(room, { kind: 'event', event });
  }

  /** Hands the newest event of each room to the listener, which fills any gap from the store. */
  private async readNewest(rooms: string[]): Promise<void> {
    if (rooms.length === 0) {
      return;
    }
    if (!this.link.isReady) {
      // The subscriber came back before the command connection; read once that one is back too.
      this.newestReadOwed = true;
      return;
    }
    this.newestReadOwed = false;
    try {
      const payloads = await Promise.all(rooms.map((room) => this.link.commands.hGet(this.newestKey(room), 'payload')));
      rooms.forEach((room, index) => {
        const payload = payloads[index];
        if (typeof payload === 'string' && this.rooms.has(room)) {
          this.channels.dispatch(room, payload);
        }
      });
    } catch (error) {
      this.newestReadOwed = true;
      this.logger.warn({ err: error, rooms: rooms.length }, 'could not read the newest events from Redis; retrying');
      const retry = setTimeout(() => {
        if (this.newestReadOwed) {
          void this.readNewest([...this.rooms]);
        }
      }, FLUSH_RETRY_MS);
      retry.unref();
    }
  }

  private keepForLater(room: string, message: BrokerMessage): void {
    const held = this.pending.get(room);
    if (held === undefined || held.event.seq < message.event.seq) {
      this.pending.set(room, message);
    }
  }

  private async flushPending(): Promise<void> {
    if (this.flushing || this.pending.size === 0) {
      return;
    }
    this.flushing = true;
    let published = 0;
    try {
      for (const [room, message] of [...this.pending]) {
        await this.send(room, message);
        // A newer event may have been kept while this one was in flight.
        if (this.pending.get(room) === message) {
          this.pending.delete(room);
        }
        published++;
      }
      this.logger.info({ rooms: published }, 'published the events held back while Redis was away');
    } catch (error) {
      this.logger.warn({ err: error, published, left: this.pending.size }, 'publishing held-back events failed; retrying');
      const retry = setTimeout(() => void this.flushPending(), FLUSH_RETRY_MS);
      retry.unref();
    } finally {
      this.flushing = false;
    }
  }

  private newestKey(room: string): string {
    return this.link.key(`room:${room}:newest`);
  }
}
