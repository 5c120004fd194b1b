import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startServer, type ConfabServer, type ServerConfig } from '../../src/index.js';

export interface TestServer {
  server: ConfabServer;
  directory: string;
  databasePath: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** Starts a server on a free loopback port with its own SQLite file in a fresh directory. */
export async function startTestServer(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  const directory = mkdtempSync(join(tmpdir(), 'confab-test-'));
  const databasePath = join(directory, 'confab.db');
  const server = await startServer({ port: 0, databasePath, logLevel: 'silent', ...overrides });
  return {
    server,
    directory,
    databasePath,
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts a server on the SQLite file of `previous` after closing `previous`, as a restart does.
 * The new server owns the directory: its `stop` removes it.
 */
export async function restartTestServer(
  previous: TestServer,
  overrides: Partial<ServerConfig> = {},
): Promise<TestServer> {
  await previous.server.close();
  return startTestServerIn(previous.directory, overrides);
}

/** Starts a server on `confab.db` in an existing directory, keeping whatever log it holds. */
export async function startTestServerIn(
  directory: string,
  overrides: Partial<ServerConfig> = {},
  services: Parameters<typeof startServer>[1] = {},
): Promise<TestServer> {
  const databasePath = join(directory, 'confab.db');
  const server = await startServer({ port: 0, databasePath, logLevel: 'silent', ...overrides }, services);
  return {
    server,
    directory,
    databasePath,
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
