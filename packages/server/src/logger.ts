import { pino, type Logger } from 'pino';

import type { ServerConfig } from './config.js';

/** Creates the server's root logger: JSON lines on stdout, tagged with the node id. */
export function createLogger(config: ServerConfig): Logger {
  return pino({
    level: config.logLevel,
    base: { node: config.nodeId },
    redact: { paths: ['token', '*.token', 'jwtSecret', '*.jwtSecret'], censor: '[redacted]' },
  });
}
