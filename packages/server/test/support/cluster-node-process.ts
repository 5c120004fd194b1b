import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

import { CLI_PATH } from './cli-process.js';
import { TEST_JWT_SECRET } from './test-tokens.js';

const START_TIMEOUT_MS = 20_000;
const REPOSITORY_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLOCK_OFFSET_MODULE = fileURLToPath(new URL('./clock-offset.ts', import.meta.url));
// The CLI prints this line on stderr once it listens.
const WEBSOCKET_LINE = /WebSocket: (ws:\/\/\S+?:(\d+)\/ws)/;

export interface ClusterNodeOptions {
  nodeId: string;
  port: number;
  databaseUrl: string;
  redisUrl: string;
  schema: string;
  keyPrefix: string;
  presenceLeaseTtlMs?: number;
  /** Shifts the node's wall clock (Date) by this many milliseconds, as a skewed host clock does. */
  clockOffsetMs?: number;
  /** More command-line flags. */
  args?: string[];
}

/** A Confab node of a test cluster, running the built CLI in a child process. */
export class ClusterNodeProcess {
  /** What the node printed on stderr (its log), for failure messages. */
  output = '';
  readonly exited: Promise<void>;

  private constructor(
    readonly options: ClusterNodeOptions,
    private readonly child: ChildProcess,
  ) {
    this.exited = once(child, 'exit').then(() => undefined);
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    child.stdout?.resume();
  }

  static async start(options: ClusterNodeOptions): Promise<ClusterNodeProcess> {
    const environment: NodeJS.ProcessEnv = {
      ...process.env,
      CONFAB_JWT_SECRET: TEST_JWT_SECRET,
      CONFAB_DATABASE_SCHEMA: options.schema,
      CONFAB_REDIS_KEY_PREFIX: options.keyPrefix,
    };
    if (options.presenceLeaseTtlMs !== undefined) {
      environment['CONFAB_PRESENCE_LEASE_TTL_MS'] = String(options.presenceLeaseTtlMs);
    }
    const nodeArgs: string[] = [];
    if (options.clockOffsetMs !== undefined) {
      environment['CONFAB_TEST_CLOCK_OFFSET_MS'] = String(options.clockOffsetMs);
      nodeArgs.push('--import', 'tsx', '--import', CLOCK_OFFSET_MODULE);
    }
    const args = [
      ...nodeArgs,
      CLI_PATH,
      '--port', String(options.port),
      '--node-id', options.nodeId,
      '--database-url', options.databaseUrl,
      '--redis-url', options.redisUrl,
      '--log-level', process.env['CONFAB_TEST_NODE_LOG_LEVEL'] ?? 'warn',
      '--send-rate-per-second', '1000',
      '--send-burst', '1000',
      ...(options.args ?? []),
    ];
    const child = spawn(process.execPath, args, { cwd: REPOSITORY_ROOT, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    const node = new ClusterNodeProcess(options, child);

    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`node ${options.nodeId} did not listen within ${START_TIMEOUT_MS} ms: ${node.output}`));
      }, START_TIMEOUT_MS);
      const onData = (): void => {
        if (WEBSOCKET_LINE.test(node.output)) {
          clearTimeout(timer);
          child.stderr?.off('data', onData);
          resolve();
        }
      };
      child.stderr?.on('data', onData);
      void node.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`node ${options.nodeId} exited before listening: ${node.output}`));
      });
    });
    return node;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.options.port}/ws`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Kills the node at once: no shutdown, nothing cleaned up, as a crash. */
  async kill(): Promise<void> {
    if (this.isRunning) {
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }

  /** Stops the node gracefully (SIGTERM), killing it if it has not exited after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.isRunning) {
      return;
    }
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
