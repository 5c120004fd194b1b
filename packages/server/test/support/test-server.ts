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
