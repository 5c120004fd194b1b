import { WebSocket } from 'ws';

import { BenchClient } from './bench-client.js';

// Engine.IO 4 packet types (first character of a frame) and Socket.IO 5 packet types (second).
const ENGINE_OPEN = 0x30; // '0'
const ENGINE_PING = 0x32; // '2'
const ENGINE_MESSAGE = 0x34; // '4'
const SOCKET_CONNECT = 0x30; // '0'
const SOCKET_EVENT = 0x32; // '2'
const SOCKET_ACK = 0x33; // '3'
const SOCKET_CONNECT_ERROR = 0x34; // '4'

/**
 * A Socket.IO 4 client on the WebSocket transport, written against the Engine.IO 4 and Socket.IO 5
 * packet formats so that it runs on the same `ws` client as the other targets. The official
 * socket.io-client is used once per run to check that the server replies as this client expects.
 */
export class SocketIoBenchClient extends BenchClient {
  send(_room: string, payload: string): void {
    this.sendText(`42["send","${payload}"]`);
  }

  protected openSocket(url: string): WebSocket {
    const base = new URL(url);
    base.pathname = '/socket.io/';
    base.search = '?EIO=4&transport=websocket';
    return new WebSocket(base, { perMessageDeflate: false });
  }

  protected handleOpen(): void {
    // The server speaks first with the Engine.IO open packet; see handleFrame.
  }

  protected handleFrame(data: Buffer): void {
    const engineType = data[0];
    if (engineType === ENGINE_PING) {
      this.sendText('3');
      return;
    }
    if (engineType === ENGINE_OPEN) {
      this.sendText(`40${JSON.stringify({ token: this.spec.token })}`);
      return;
    }
    if (engineType !== ENGINE_MESSAGE) {
      return;
    }

    const socketType = data[1];
    if (socketType === SOCKET_EVENT) {
      this.deliver(data);
      return;
    }
    if (socketType === SOCKET_CONNECT) {
      this.sendText(`420${JSON.stringify(['join', this.spec.rooms[0] ?? 'lobby'])}`);
      return;
    }
    if (socketType === SOCKET_ACK) {
      this.handshakeDone();
      return;
    }
    if (socketType === SOCKET_CONNECT_ERROR) {
      this.counters.recordError('connect_error');
      this.handshakeFailed(`Socket.IO refused the connection: ${data.toString()}`);
    }
  }
}
