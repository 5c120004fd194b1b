/**
 * Destination of the SDK's diagnostic output. `console` fits; so does a pino or winston logger
 * wrapped to this shape. The SDK never logs credentials or message content.
 */
export interface Logger {
  debug(message: string, details?: Record<string, unknown>): void;
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

function ignore(): void {}

/** The default logger: the SDK prints nothing unless the app passes a logger. */
export const SILENT_LOGGER: Logger = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
};
