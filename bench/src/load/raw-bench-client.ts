import { WebSocket } from 'ws';

import { BenchClient } from './bench-client.js';

/** Reply of the raw relay server to the first message, which names the client's room. */
export const RAW_JOINED_REPLY = 'joined';

/**
 * A client of the raw ws relay: its first text message names its room, and every later message is
 * relayed to the room's members. There is no authentication and no acknowledgement.
 */
export class RawBenchClient extends BenchClient {
  send(_room: string, payload: string): void {
    this.sendText(payload);
  }

  protected openSocket(url: string): WebSocket {
    return new WebSocket(url, { perMessageDeflate: false });
  }

  protected handleOpen(): void {
    this.sendText(this.spec.rooms[0] ?? 'lobby');
  }

  protected handleFrame(data: Buffer): void {
    if (this.handshaking) {
      if (data.toString() === RAW_JOINED_REPLY) {
        this.handshakeDone();
      }
      return;
    }
    this.deliver(data);
  }
}
