import type { CliServer } from '../../support/cli-process.js';

/** How long a server may take to shut down gracefully before it is killed, in milliseconds. */
const DEFAULT_STOP_TIMEOUT_MS = 15_000;

/**
 * Stops a CLI server with SIGTERM, which closes its clients with 1012, and kills it if it has not
 * exited within `timeoutMs`. Resolves with the exit once the process is gone.
 */
export async function stopCliServer(server: CliServer, timeoutMs = DEFAULT_STOP_TIMEOUT_MS) {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGTERM');
  }
  const timer = setTimeout(() => server.child.kill('SIGKILL'), timeoutMs);
  try {
    return await server.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Returns whether the server's process is still running. */
export function isRunning(server: CliServer): boolean {
  return server.child.exitCode === null && server.child.signalCode === null;
}
