import { isIP } from 'node:net';

import { guestsAllowed, type ServerConfig } from './config.js';

/** A setting that cannot work; the message names the setting and what would. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Smallest presence lease accepted: renewals every third of it must fit several Redis round trips. */
const MIN_PRESENCE_LEASE_TTL_MS = 300;

const POSITIVE_INTEGER_KEYS = [
  'maxFrameBytes',
  'maxContentCodePoints',
  'maxRoomsPerConnection',
  'maxConnectionsPerUser',
  'historyMaxLimit',
  'historyDefaultLimit',
  'typingTimeoutMs',
  'sendBurst',
  'authTimeoutMs',
  'pingIntervalMs',
  'pingTimeoutMs',
  'sendBufferSoftBytes',
  'sendBufferHardBytes',
  'slowConsumerGraceMs',
  'invalidFrameBurst',
  'shutdownTimeoutMs',
] as const satisfies readonly (keyof ServerConfig)[];

/** Throws a ConfigError for the first setting that cannot work. */
export function validateConfig(config: ServerConfig): void {
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw new ConfigError(`port must be an integer from 0 to 65535, got ${config.port}`);
  }
  for (const key of POSITIVE_INTEGER_KEYS) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new ConfigError(`${key} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isInteger(config.presenceLeaseTtlMs) || config.presenceLeaseTtlMs < MIN_PRESENCE_LEASE_TTL_MS) {
    throw new ConfigError(
      `presenceLeaseTtlMs must be an integer of at least ${MIN_PRESENCE_LEASE_TTL_MS} milliseconds, got ${config.presenceLeaseTtlMs}`,
    );
  }
  if (config.redisKeyPrefix.length === 0) {
    throw new ConfigError('redisKeyPrefix must not be empty; the default is "confab:"');
  }
  if (!(config.sendRatePerSecond > 0)) {
    throw new ConfigError(`sendRatePerSecond must be above 0, got ${config.sendRatePerSecond}`);
  }
  if (config.historyDefaultLimit > config.historyMaxLimit) {
    throw new ConfigError(
      `historyDefaultLimit (${config.historyDefaultLimit}) must not exceed historyMaxLimit (${config.historyMaxLimit})`,
    );
  }
  if (config.sendBufferHardBytes < config.sendBufferSoftBytes) {
    throw new ConfigError('sendBufferHardBytes must be at least sendBufferSoftBytes');
  }
  if (config.jwtSecret !== undefined && config.jwtPublicKey !== undefined) {
    throw new ConfigError('set either a JWT secret or a JWT public key, not both');
  }
  if (config.jwtSecret !== undefined && Buffer.byteLength(config.jwtSecret) < 32) {
    throw new ConfigError('the JWT secret must be at least 32 bytes long; generate one with `openssl rand -hex 32`');
  }

  const hasTokenAuth = config.jwtSecret !== undefined || config.jwtPublicKey !== undefined;
  if (!isLoopback(config.host) && !hasTokenAuth && config.allowGuests !== true) {
    throw new ConfigError(
      `refusing to listen on ${config.host} with no authentication: set a JWT secret or public key, ` +
        'or allow guests explicitly (--allow-guests) if anyone who can reach this address may chat',
    );
  }
  if (!hasTokenAuth && !guestsAllowed(config)) {
    throw new ConfigError('guests are disabled and no JWT key is set, so no one could sign in');
  }
}

/** Returns whether a host name or address is on the loopback interface. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') {
    return true;
  }
  const family = isIP(host);
  if (family === 4) {
    return host.startsWith('127.');
  }
  if (family === 6) {
    return host === '::1';
  }
  return false;
}
