/**
 * Socket.IO 4 with rooms: `join` puts the socket in a room, and each `send` is broadcast to the
 * room with `io.to(room).emit`, the sender included. WebSocket transport only, per-message deflate
 * off, no authentication beyond accepting the handshake.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Server } from 'socket.io';

import { notifyParent, serveParentRequests } from '../ipc-peer.js';

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
});

io.on('connection', (socket) => {
  socket.on('join', (room: string, ack?: () => void) => {
    void socket.join(room);
    socket.data.room = room;
    ack?.();
  });
  socket.on('send', (payload: string) => {
    const room = socket.data.room as string | undefined;
    if (room !== undefined) {
      io.to(room).emit('m', payload);
    }
  });
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
