import { createHash } from 'node:crypto';

import type { Logger } from 'pino';
import { createClient } from 'redis';

export type RedisClient = ReturnType<typeof createClient>;

export interface RedisLinkOptions {
  /** Redis URL, such as `redis://127.0.0.1:6379`. */
  url: string;
  /** Prepended to every key and channel, so that several clusters or test runs can share a Redis. */
  keyPrefix: string;
  /** This process's id in the cluster; unique per start. */
  nodeInstanceId: string;
  logger: Logger;
  /** How long a command may wait for its reply before it fails. */
  commandTimeoutMs?: number;
  /** How long startup waits for the first connection before it goes on without Redis. */
  startTimeoutMs?: number;
}

/** A message handler for one channel. */
export type ChannelHandler = (message: string) => void;

/** A Lua script run by its SHA-1, sent in full only when Redis does not have it cached. */
export interface RedisScript {
  source: string;
  sha: string;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
const DEFAULT_START_TIMEOUT_MS = 3000;
// A PING every few seconds finds a connection that died without a FIN (a host that vanished).
const PING_INTERVAL_MS = 5000;
const MAX_RECONNECT_DELAY_MS = 2000;

export function defineScript(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * The connections of one node to Redis: one for commands and publishing, one for subscriptions
 * (a connection in subscribe mode can run nothing else). Both reconnect forever with a capped
 * backoff. The subscriber's channels are recorded here as well as in the client, so that a
 * subscription that failed while Redis was away is made again when it returns. node-redis (v5)
 * itself re-subscribes only the channels whose SUBSCRIBE had been confirmed.
 *
 * Shared by the broker, presence, typing and rate limiter of a node; each holds a reference, and
 * the last `release` closes the connections.
 */
export class RedisLink {
  readonly keyPrefix: string;
  readonly nodeInstanceId: string;
  readonly commands: RedisClient;
  private readonly subscriber: RedisClient;
  private readonly logger: Logger;
  private readonly startTimeoutMs: number;
  private readonly handlers = new Map<string, ChannelHandler>();
  /** Channels whose SUBSCRIBE Redis has confirmed (node-redis renews them after a reconnect). */
  private readonly confirmed = new Set<string>();
  private readonly commandsReadyHandlers: Array<() => void> = [];
  private readonly subscriberReadyHandlers: Array<() => void> = [];
  private references = 0;
  private connecting: Promise<void> | undefined;
  private reconciling: Promise<void> | undefined;
  private reconcileAgain = false;
  private closed = false;
  private readonly onMessage = (message: string, channel: string): void => this.dispatch(channel, message);

  constructor(options: RedisLinkOptions) {
    this.keyPrefix = options.keyPrefix;
    this.nodeInstanceId = options.nodeInstanceId;
    this.logger = options.logger;
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;

    const socket = {
      keepAlive: true,
      // Reconnect forever: Redis coming back is the normal end of an outage. The default strategy
      // of node-redis gives up after a socket timeout.
      reconnectStrategy: (retries: number) =>
        Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS) + Math.floor(Math.random() * 200),
    };
    this.commands = createClient({
      url: options.url,
      socket,
      pingInterval: PING_INTERVAL_MS,
      // Commands fail at once while Redis is away instead of piling up: each caller has a
      // fallback (republish later, resync presence, local rate limit).
      disableOfflineQueue: true,
      commandOptions: { timeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS },
    });
    this.subscriber = createClient({ url: options.url, socket, pingInterval: PING_INTERVAL_MS });

    this.watch(this.commands, 'commands', this.commandsReadyHandlers);
    this.watch(this.subscriber, 'subscriber', this.subscriberReadyHandlers);
  }

  /** Whether commands can be sent now. */
  get isReady(): boolean {
    return this.commands.isReady;
  }

  /** Whether published messages reach this node now. */
  get isSubscriberReady(): boolean {
    return this.subscriber.isReady;
  }

  key(suffix: string): string {
    return `${this.keyPrefix}${suffix}`;
  }

  /** Registers a user of the link; the link stays open until every user has released it. */
  retain(): void {
    this.references++;
  }

  /**
   * Connects both clients. Resolves when both are ready or after the start timeout: a node starts
   * and serves its local clients while Redis is away, and the clients keep retrying.
   */
  connect(): Promise<void> {
    this.connecting ??= this.connectOnce();
    return this.connecting;
  }

  /** Calls `handler` each time the command connection becomes ready, the first time included. */
  onCommandsReady(handler: () => void): void {
    this.commandsReadyHandlers.push(handler);
  }

  /** Calls `handler` each time the subscriber is ready again after a loss (not the first time). */
  onSubscriberRecovered(handler: () => void): void {
    this.subscriberReadyHandlers.push(handler);
  }

  /**
   * Subscribes to a channel. Resolves once Redis confirms it, or at once while Redis is away (the
   * subscription is then made when Redis returns).
   */
  async subscribe(channel: string, handler: ChannelHandler): Promise<void> {
    this.handlers.set(channel, handler);
    await this.reconcile();
  }

  async unsubscribe(channel: string): Promise<void> {
    this.handlers.delete(channel);
    await this.reconcile();
  }

  /** Runs a script by SHA-1, loading it when Redis does not have it (as after a Redis restart). */
  async runScript(script: RedisScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.commands.evalSha(script.sha, { keys, arguments: args });
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return this.commands.eval(script.source, { keys, arguments: args });
      }
      throw error;
    }
  }

  /** Drops a reference; the last one closes both connections. */
  async release(): Promise<void> {
    this.references--;
    if (this.references > 0 || this.closed) {
      return;
    }
    this.closed = true;
    this.handlers.clear();
    await Promise.allSettled([closeClient(this.commands), closeClient(this.subscriber)]);
    this.logger.info('Redis connections closed');
  }

  /**
   * Drops both connections at once and for good, leaving everything this node wrote in Redis
   * behind, as a crash does. Tests use it to stand for a killed node.
   */
  destroy(): void {
    this.closed = true;
    for (const client of [this.commands, this.subscriber]) {
      if (client.isOpen) {
        client.destroy();
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const ready = Promise.allSettled([this.commands.connect(), this.subscriber.connect()]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.startTimeoutMs);
    });
    const outcome = await Promise.race([ready, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.logger.error(
        { timeoutMs: this.startTimeoutMs },
        'Redis is not reachable; serving local clients only and retrying in the background',
      );
    }
  }

  private watch(client: RedisClient, role: 'commands' | 'subscriber', readyHandlers: Array<() => void>): void {
    let lost = false;
    let failedAttempts = 0;

    client.on('error', (error: unknown) => {
      if (this.closed) {
        return;
      }
      failedAttempts++;
      if (!lost) {
        lost = true;
        this.logger.error({ err: error, role }, 'Redis connection lost; reconnecting');
      } else if (isPowerOfTwo(failedAttempts)) {
        // Reconnect attempts repeat every two seconds; log them at a falling rate.
        this.logger.warn({ err: error, role, failedAttempts }, 'Redis still unreachable');
      }
    });

    let everReady = false;
    client.on('ready', () => {
      if (lost) {
        this.logger.info({ role, failedAttempts }, 'Redis connection restored');
      }
      const recovered = everReady;
      everReady = true;
      lost = false;
      failedAttempts = 0;

      if (role === 'subscriber') {
        // node-redis has re-subscribed the confirmed channels before `ready`; add any that failed.
        void this.reconcile();
        if (!recovered) {
          return;
        }
      }
      for (const handler of readyHandlers) {
        handler();
      }
    });
  }

  /** Brings the subscriber's channels in line with `handlers`, one pass at a time. */
  private reconcile(): Promise<void> {
    if (this.reconciling !== undefined) {
      this.reconcileAgain = true;
      return this.reconciling;
    }
    this.reconciling = (async () => {
      try {
        do {
          this.reconcileAgain = false;
          await this.reconcileOnce();
        } while (this.reconcileAgain && !this.closed);
      } finally {
        this.reconciling = undefined;
      }
    })();
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    if (this.closed || !this.subscriber.isReady) {
      return;
    }

    const toAdd = [...this.handlers.keys()].filter((channel) => !this.confirmed.has(channel));
    const toRemove = [...this.confirmed].filter((channel) => !this.handlers.has(channel));
    if (toAdd.length > 0) {
      try {
        await this.subscriber.subscribe(toAdd, this.onMessage);
        for (const channel of toAdd) {
          this.confirmed.add(channel);
        }
      } catch (error) {
        // The next `ready` runs the reconciliation again.
        this.logger.warn({ err: error, channels: toAdd.length }, 'Redis SUBSCRIBE failed; retrying after reconnect');
      }
    }
    if (toRemove.length > 0) {
      try {
        await this.subscriber.unsubscribe(toRemove);
        for (const channel of toRemove) {
          this.confirmed.delete(channel);
        }
      } catch (error) {
        this.logger.warn({ err: error, channels: toRemove.length }, 'Redis UNSUBSCRIBE failed; retrying after reconnect');
      }
    }
  }

  private dispatch(channel: string, message: string): void {
    const handler = this.handlers.get(channel);
    if (handler === undefined) {
      return;
    }
    try {
      handler(message);
    } catch (error) {
      this.logger.error({ err: error, channel }, 'Redis message handler failed');
    }
  }
}

async function closeClient(client: RedisClient): Promise<void> {
  if (!client.isOpen) {
    return;
  }
  if (client.isReady) {
    await client.close();
  } else {
    client.destroy();
  }
}

function isPowerOfTwo(value: number): boolean {
  return (value & (value - 1)) === 0;
}
