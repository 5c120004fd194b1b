import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startServer, type ConfabServer, type ServerConfig } from '@confab/server';

/** The built UI that the server serves at "/". */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/', import.meta.url));

/** A server serving the built UI, on a database file that outlives restarts. */
export interface WebServer {
  server: ConfabServer;
  databasePath: string;
  /** Closes the server gracefully (clients get close code 1012) and keeps its database file. */
  close: () => Promise<void>;
  /** Starts a new server on the port and database file of the closed one. */
  reopen: () => Promise<ConfabServer>;
  /** Closes the server and removes its directory: the database and the copy of the UI. */
  stop: () => Promise<void>;
}

/** Starts a real Confab server on a free port, serving a copy of the built UI. */
export async function startWebServer(overrides: Partial<ServerConfig> = {}): Promise<WebServer> {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) {
    throw new Error(`${WEB_ROOT}index.html is missing; run \`npm run build\` at the repository root first`);
  }

  const directory = await mkdtemp(join(tmpdir(), 'confab-web-test-'));
  const databasePath = join(directory, 'confab.db');
  // The server gets its own copy of the UI, so a build running meanwhile (it empties dist/ first)
  // cannot pull files from under the pages.
  const webRoot = join(directory, 'web');
  await cp(WEB_ROOT, webRoot, { recursive: true });
  if (!existsSync(join(webRoot, 'index.html'))) {
    throw new Error(`${WEB_ROOT} changed while it was copied; run the tests again once the build has finished`);
  }
  const config: Partial<ServerConfig> = { port: 0, databasePath, webRoot, logLevel: 'silent', ...overrides };

  const handle: WebServer = {
    server: await startServer(config),
    databasePath,
    close: async () => {
      port = handle.server.port;
      open = false;
      await handle.server.close();
    },
    reopen: async () => {
      handle.server = await startServer({ ...config, port });
      open = true;
      return handle.server;
    },
    stop: async () => {
      if (open) {
        await handle.server.close();
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
  let port = handle.server.port;
  let open = true;
  return handle;
}
