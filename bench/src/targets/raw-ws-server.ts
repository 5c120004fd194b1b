/**
 * The raw `ws` ceiling: the first text message of a connection names its room, and every later
 * message is relayed to every member of that room, the sender included. Each message is framed once
 * with ws's `Sender.frame` and the same two buffers are written to every member's socket, so the
 * cost per member is one socket write. No parsing beyond that, no storage, no authentication.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

import * as wsModule from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';

import { notifyParent, serveParentRequests } from '../ipc-peer.js';
import { RAW_JOINED_REPLY } from '../load/raw-bench-client.js';

// @types/ws does not declare Sender, which ws exports; this is the part of it used here.
interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}
const { Sender } = wsModule as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } };

const TEXT_OPCODE = 1;
const FRAME_OPTIONS: FrameOptions = { fin: true, rsv1: false, opcode: TEXT_OPCODE, mask: false, readOnly: false };

const rooms = new Map<string, Set<WebSocket>>();
const http = createServer((_request, response) => response.writeHead(404).end());
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });

wss.on('connection', (ws: WebSocket) => {
  let members: Set<WebSocket> | undefined;

  ws.on('message', (data: Buffer) => {
    if (members === undefined) {
      const room = data.toString();
      members = rooms.get(room) ?? new Set();
      rooms.set(room, members);
      members.add(ws);
      ws.send(RAW_JOINED_REPLY);
      return;
    }

    const [header, body] = Sender.frame(data, FRAME_OPTIONS);
    for (const member of members) {
      // ws keeps the net.Socket in `_socket`; writing the shared frame there skips ws's per-call
      // framing, which is the point of this ceiling.
      const socket = (member as unknown as { _socket: Socket })._socket;
      if (!socket.writable) {
        continue;
      }
      socket.cork();
      socket.write(header as Buffer);
      if (body !== undefined) {
        socket.write(body);
      }
      socket.uncork();
    }
  });
  ws.on('close', () => members?.delete(ws));
  ws.on('error', () => members?.delete(ws));
});

http.listen(0, '127.0.0.1', () => {
  notifyParent('ready', { port: (http.address() as AddressInfo).port });
});

serveParentRequests({
  gc: () => globalThis.gc?.(),
  stop: () => {
    setImmediate(() => process.exit(0));
  },
});
