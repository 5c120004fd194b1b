import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startServer, type ConfabServer, type ServerConfig } from '@confab/server';
import WebSocket from 'ws';

import { ConfabClient, type ConfabClientOptions, type Room } from '../../src/index.js';

/** A server on port 0 with its own database file, which survives restarts. */
export class TestServer {
  readonly directory: string;
  readonly databasePath: string;
  readonly overrides: Partial<ServerConfig>;
  server: ConfabServer;

  private constructor(directory: string, overrides: Partial<ServerConfig>, server: ConfabServer) {
    this.directory = directory;
    this.databasePath = join(directory, 'confab.db');
    this.overrides = overrides;
    this.server = server;
  }

  static async start(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
    const directory = mkdtempSync(join(tmpdir(), 'confab-client-test-'));
    const server = await startServer({
      port: 0,
      databasePath: join(directory, 'confab.db'),
      logLevel: 'silent',
      ...overrides,
    });
    return new TestServer(directory, overrides, server);
  }

  get url(): string {
    return this.server.url;
  }

  get port(): number {
    return this.server.port;
  }

  /** Stops the server gracefully (clients get 1012) and starts it again on the same database. */
  async restart(port = 0): Promise<void> {
    await this.server.close();
    this.server = await startServer({
      port,
      databasePath: this.databasePath,
      logLevel: 'silent',
      ...this.overrides,
    });
  }

  async close(): Promise<void> {
    await this.server.close();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** Creates a client that uses the `ws` package, with fast retries for tests. */
export function createClient(url: string, options: Partial<ConfabClientOptions> = {}): ConfabClient {
  return new ConfabClient({
    url,
    guestName: 'tester',
    WebSocket,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200, stableAfterMs: 1000 },
    requestTimeoutMs: 3000,
    ...options,
  });
}

/** Polls `predicate` until it holds; fails with `description` after `timeoutMs`. */
export async function waitFor(description: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    }
    await delay(10);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Seqs and contents of a room's delivered messages, for comparing clients. */
export function contents(room: Room): string[] {
  return room.messages.map((event) => event.content);
}

/**
 * Checks the invariant every client must keep: seqs strictly ascending by exactly one from the
 * first message, and no clientMessageId twice.
 */
export function assertContiguous(room: Room): void {
  const seqs = room.messages.map((event) => event.seq);
  for (let index = 1; index < seqs.length; index++) {
    if (seqs[index] !== seqs[index - 1]! + 1) {
      throw new Error(`room ${room.name}: seq ${seqs[index]} follows ${seqs[index - 1]}; full list ${seqs.join(',')}`);
    }
  }
  const ids = room.messages.map((event) => event.clientMessageId);
  if (new Set(ids).size !== ids.length) {
    throw new Error(`room ${room.name}: a clientMessageId was delivered twice`);
  }
}

/** Signs an HS256 JWT, as an identity provider would. */
export function signToken(secret: string, claims: Record<string, unknown>): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}`;
  const signature = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${signature}`;
}
