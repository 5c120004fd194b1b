import { io } from 'socket.io-client';

import type { BenchEnvironment } from './bench-environment.js';
import { RunningTarget } from './running-target.js';
import { SOCKET_IO } from './target-spec.js';

/** Bound on the whole check, in milliseconds. */
const PREFLIGHT_TIMEOUT_MS = 15_000;

/**
 * Checks the Socket.IO target with the official socket.io-client: join a room, send, and receive the
 * broadcast. The load generator speaks the same packets itself, so this guards against the two
 * drifting apart. Resolves with a problem description, or undefined when all went well.
 */
export async function checkSocketIoTarget(
  environment: BenchEnvironment,
  serverCpuList: string | undefined,
): Promise<string | undefined> {
  const target = await RunningTarget.start(SOCKET_IO, environment, { cpuList: serverCpuList });
  const base = target.urls[0]?.replace(/^ws:/, 'http:').replace(/\/ws$/, '') ?? '';
  const socket = io(base, { transports: ['websocket'], auth: { token: 'preflight' }, reconnection: false });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve, reject) => {
        socket.on('connect_error', (error) => reject(error));
        socket.on('m', (payload: string) => {
          if (payload === 'preflight-payload') {
            resolve();
          }
        });
        socket.on('connect', () => {
          socket.emit('join', 'preflight-room', () => socket.emit('send', 'preflight-payload'));
        });
      }),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no broadcast within ${PREFLIGHT_TIMEOUT_MS} ms`)), PREFLIGHT_TIMEOUT_MS);
      }),
    ]);
    return undefined;
  } catch (error) {
    return `socket.io-client could not join, send and receive: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    clearTimeout(timer);
    socket.close();
    await target.stop();
  }
}
