#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { parseCliOptions, helpText } from './cli-options.js';
import { ConfigError } from './config-validation.js';
import { startServer } from './server.js';

// The web UI built by the repository's `npm start`, served when no --web-root is given.
const BUNDLED_WEB_ROOT = fileURLToPath(new URL('../../../apps/web/dist', import.meta.url));

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseCliOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`confab-server: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  if (parsed.help) {
    console.log(helpText());
    return;
  }

  const overrides = parsed.overrides;
  if (overrides.webRoot === undefined && existsSync(BUNDLED_WEB_ROOT)) {
    overrides.webRoot = BUNDLED_WEB_ROOT;
  }

  let server;
  try {
    server = await startServer(overrides);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`confab-server: ${error.message}`);
      process.exit(2);
    }
    console.error(`confab-server: failed to start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }

  console.error(
    `Confab is listening.\n  Web chat:  ${server.httpUrl}/\n  WebSocket: ${server.url} (subprotocol confab.v1)\n` +
      `  Health:    ${server.httpUrl}/healthz, ${server.httpUrl}/readyz\nPress Ctrl+C to stop.`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      server.logger.warn({ signal }, 'second signal during shutdown; exiting at once');
      process.exit(1);
    }
    stopping = true;
    server.logger.info({ signal }, 'signal received');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

await main();
