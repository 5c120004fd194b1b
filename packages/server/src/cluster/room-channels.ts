import type { Logger } from 'pino';

import type { RedisLink } from './redis-link.js';

/** A message on a room's channel. `node` is the instance id of the node that published it. */
export interface RoomChannelMessage {
  node: string;
  kind: string;
  [field: string]: unknown;
}

export type RoomMessageHandler = (room: string, message: RoomChannelMessage) => void;

/**
 * The Redis channel of each room, shared by the broker (events) and typing: a node subscribes while
 * it has local members in the room, and both kinds of message then travel on one connection, in
 * the order they were published. That order is what lets a typing stop reach other nodes before
 * the message that ended it.
 */
export class RoomChannels {
  private readonly handlers = new Map<string, RoomMessageHandler>();

  constructor(
    private readonly link: RedisLink,
    private readonly logger: Logger,
  ) {}

  channel(room: string): string {
    return this.link.key(`room:${room}`);
  }

  /** Routes messages of one kind, other nodes' only, to `handler`. */
  on(kind: string, handler: RoomMessageHandler): void {
    this.handlers.set(kind, handler);
  }

  subscribe(room: string): Promise<void> {
    return this.link.subscribe(this.channel(room), (text) => this.dispatch(room, text));
  }

  unsubscribe(room: string): Promise<void> {
    return this.link.unsubscribe(this.channel(room));
  }

  /** Publishes to the room's channel; rejects when Redis cannot take it now. */
  async publish(room: string, message: RoomChannelMessage): Promise<void> {
    await this.link.commands.publish(this.channel(room), JSON.stringify(message));
  }

  /** Decodes a message from the channel or from a stored copy, and routes it. */
  dispatch(room: string, text: string): void {
    let message: RoomChannelMessage;
    try {
      message = JSON.parse(text) as RoomChannelMessage;
    } catch (error) {
      this.logger.warn({ err: error, room }, 'dropped a room channel message that is not JSON');
      return;
    }
    if (message.node === this.link.nodeInstanceId) {
      // Our own message, echoed by Redis: local members had it directly.
      return;
    }
    this.handlers.get(message.kind)?.(room, message);
  }
}
