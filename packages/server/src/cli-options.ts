import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { DEFAULT_CONFIG, type ServerConfig } from './config.js';
import { ConfigError } from './config-validation.js';

type OptionKind = 'string' | 'integer' | 'number' | 'boolean' | 'list';

interface OptionSpec {
  flag: string;
  key: keyof ServerConfig | 'jwtPublicKeyFile';
  kind: OptionKind;
  description: string;
  /** Allowed values of a string option. */
  choices?: readonly string[];
}

/** Every setting the command line takes. Each also reads `CONFAB_<FLAG>` from the environment. */
export const CLI_OPTIONS: readonly OptionSpec[] = [
  { flag: 'host', key: 'host', kind: 'string', description: 'address to listen on' },
  { flag: 'port', key: 'port', kind: 'integer', description: 'TCP port (0 picks a free one)' },
  { flag: 'database', key: 'databasePath', kind: 'string', description: 'SQLite database file, or :memory:' },
  { flag: 'database-url', key: 'databaseUrl', kind: 'string', description: 'PostgreSQL URL; stores the log in PostgreSQL instead of SQLite' },
  { flag: 'redis-url', key: 'redisUrl', kind: 'string', description: 'Redis URL; shares events, presence and rate limits between nodes' },
  { flag: 'database-schema', key: 'databaseSchema', kind: 'string', description: 'PostgreSQL schema of the log; the same on every node of a cluster' },
  { flag: 'redis-key-prefix', key: 'redisKeyPrefix', kind: 'string', description: 'prefix of every Redis key and channel; the same on every node of a cluster' },
  { flag: 'presence-lease-ttl-ms', key: 'presenceLeaseTtlMs', kind: 'integer', description: 'a cluster node that stops renewing its presence lease this long is treated as dead, in milliseconds' },
  { flag: 'sqlite-synchronous', key: 'sqliteSynchronous', kind: 'string', choices: ['full', 'normal'], description: 'SQLite synchronous mode: full survives power loss, normal survives a process crash' },
  { flag: 'jwt-secret', key: 'jwtSecret', kind: 'string', description: 'HMAC secret for HS256, HS384 or HS512 tokens (at least 32 bytes; prefer the environment variable)' },
  { flag: 'jwt-public-key-file', key: 'jwtPublicKeyFile', kind: 'string', description: 'PEM public key file for RS256, PS256, ES256 or EdDSA tokens (and their 384/512 variants)' },
  { flag: 'jwt-issuer', key: 'jwtIssuer', kind: 'string', description: 'required "iss" claim of tokens' },
  { flag: 'jwt-audience', key: 'jwtAudience', kind: 'string', description: 'required "aud" claim of tokens' },
  { flag: 'allow-guests', key: 'allowGuests', kind: 'boolean', description: 'allow sign-in with a display name only (default: when no JWT key is set)' },
  { flag: 'allowed-origins', key: 'allowedOrigins', kind: 'list', description: 'comma-separated browser origins allowed besides the server\'s own; * allows any' },
  { flag: 'web-root', key: 'webRoot', kind: 'string', description: 'directory of the built web UI served at / (when unset: apps/web/dist of this repository, if built)' },
  { flag: 'node-id', key: 'nodeId', kind: 'string', description: 'name of this node in logs and in a cluster' },
  { flag: 'log-level', key: 'logLevel', kind: 'string', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], description: 'log level' },
  { flag: 'max-frame-bytes', key: 'maxFrameBytes', kind: 'integer', description: 'largest inbound WebSocket frame, in bytes (larger: close 1009)' },
  { flag: 'max-content-code-points', key: 'maxContentCodePoints', kind: 'integer', description: 'maximum message content length, in Unicode code points' },
  { flag: 'max-rooms-per-connection', key: 'maxRoomsPerConnection', kind: 'integer', description: 'rooms one connection may join' },
  { flag: 'max-connections-per-user', key: 'maxConnectionsPerUser', kind: 'integer', description: 'connections one user may hold on this node' },
  { flag: 'history-max-limit', key: 'historyMaxLimit', kind: 'integer', description: 'largest history page, in events' },
  { flag: 'history-default-limit', key: 'historyDefaultLimit', kind: 'integer', description: 'history page size when none is asked, in events' },
  { flag: 'typing-timeout-ms', key: 'typingTimeoutMs', kind: 'integer', description: 'typing indicator expiry, in milliseconds' },
  { flag: 'send-rate-per-second', key: 'sendRatePerSecond', kind: 'number', description: 'sustained sends per second per user' },
  { flag: 'send-burst', key: 'sendBurst', kind: 'integer', description: 'sends per user allowed in a burst' },
  { flag: 'auth-timeout-ms', key: 'authTimeoutMs', kind: 'integer', description: 'time allowed to authenticate after connecting, in milliseconds' },
  { flag: 'ping-interval-ms', key: 'pingIntervalMs', kind: 'integer', description: 'WebSocket ping interval, in milliseconds' },
  { flag: 'ping-timeout-ms', key: 'pingTimeoutMs', kind: 'integer', description: 'time allowed for a pong after each ping, in milliseconds' },
  { flag: 'send-buffer-soft-bytes', key: 'sendBufferSoftBytes', kind: 'integer', description: 'queued bytes per connection above which typing and presence are dropped' },
  { flag: 'send-buffer-hard-bytes', key: 'sendBufferHardBytes', kind: 'integer', description: 'queued bytes per connection above which it is closed (4004)' },
  { flag: 'slow-consumer-grace-ms', key: 'slowConsumerGraceMs', kind: 'integer', description: 'time a connection may stay over the soft cap before it is closed (4004), in milliseconds' },
  { flag: 'invalid-frame-burst', key: 'invalidFrameBurst', kind: 'integer', description: 'invalid frames allowed in a burst before close 1008 (refills 1 per second)' },
  { flag: 'shutdown-timeout-ms', key: 'shutdownTimeoutMs', kind: 'integer', description: 'time shutdown waits for store writes under way, in milliseconds' },
];

export function environmentName(flag: string): string {
  return `CONFAB_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** Builds the `--help` text: every option with its environment variable and default. */
export function helpText(): string {
  const lines = [
    'Usage: confab-server [options]',
    '',
    'Starts a Confab chat server. Every option can also be set through the environment variable',
    'shown; a command-line flag wins over the environment.',
    '',
  ];
  for (const option of CLI_OPTIONS) {
    const value = option.kind === 'boolean' ? '' : ' <value>';
    const defaultValue = option.key === 'jwtPublicKeyFile' ? undefined : DEFAULT_CONFIG[option.key];
    const shownDefault =
      defaultValue === undefined || (Array.isArray(defaultValue) && defaultValue.length === 0)
        ? 'none'
        : String(defaultValue);
    const choices = option.choices === undefined ? '' : ` (${option.choices.join(' | ')})`;
    lines.push(option.kind === 'boolean' ? `  --${option.flag}, --no-${option.flag}` : `  --${option.flag}${value}`);
    lines.push(`      ${option.description}${choices}`);
    lines.push(`      env ${environmentName(option.flag)}; default ${shownDefault}`);
  }
  lines.push('  --help', '      print this text and exit');
  return lines.join('\n');
}

/** Reads settings from the command line and the environment. Throws ConfigError on a bad value. */
export function parseCliOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): { help: boolean; overrides: Partial<ServerConfig> } {
  const parseOptions: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const option of CLI_OPTIONS) {
    parseOptions[option.flag] = { type: option.kind === 'boolean' ? 'boolean' : 'string' };
    if (option.kind === 'boolean') {
      parseOptions[`no-${option.flag}`] = { type: 'boolean' };
    }
  }

  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options: parseOptions, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new ConfigError(`${error instanceof Error ? error.message : String(error)}; see --help`);
  }
  if (values['help'] === true) {
    return { help: true, overrides: {} };
  }

  const overrides: Record<string, unknown> = {};
  for (const option of CLI_OPTIONS) {
    const raw = readRaw(option, values, env);
    if (raw === undefined) {
      continue;
    }
    const value = convert(option, raw);
    if (option.key === 'jwtPublicKeyFile') {
      overrides['jwtPublicKey'] = readKeyFile(String(value));
    } else {
      overrides[option.key] = value;
    }
  }
  return { help: false, overrides: overrides as Partial<ServerConfig> };
}

function readRaw(
  option: OptionSpec,
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): string | boolean | undefined {
  if (option.kind === 'boolean' && values[`no-${option.flag}`] === true) {
    return false;
  }
  const fromFlag = values[option.flag];
  if (fromFlag !== undefined) {
    return fromFlag;
  }
  const fromEnv = env[environmentName(option.flag)];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

function convert(option: OptionSpec, raw: string | boolean): unknown {
  const name = `--${option.flag}`;
  switch (option.kind) {
    case 'boolean':
      if (typeof raw === 'boolean') {
        return raw;
      }
      if (/^(1|true|yes|on)$/i.test(raw)) {
        return true;
      }
      if (/^(0|false|no|off)$/i.test(raw)) {
        return false;
      }
      throw new ConfigError(`${name} must be true or false, got "${raw}"`);
    case 'integer': {
      const text = String(raw);
      if (!/^\d+$/.test(text)) {
        throw new ConfigError(`${name} must be a whole number, got "${text}"`);
      }
      return Number(text);
    }
    case 'number': {
      const value = Number(raw);
      if (!Number.isFinite(value)) {
        throw new ConfigError(`${name} must be a number, got "${String(raw)}"`);
      }
      return value;
    }
    case 'list':
      return String(raw)
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry.length > 0);
    case 'string': {
      const text = String(raw);
      if (option.choices !== undefined && !option.choices.includes(text)) {
        throw new ConfigError(`${name} must be one of ${option.choices.join(', ')}, got "${text}"`);
      }
      return text;
    }
  }
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the JWT public key file ${path}: ${(error as Error).message}`);
  }
}
