import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { freePort } from './private-redis.js';

const run = promisify(execFile);
const COMMAND_TIMEOUT_MS = 60_000;

/**
 * A PostgreSQL server of the test's own (initdb into a temporary directory, on a free loopback
 * port), which the test may stop and start to stand for an outage. Run as root, the server runs as
 * the `postgres` user, because PostgreSQL refuses to run as root.
 */
export class PrivatePostgres {
  private constructor(
    private readonly binDirectory: string,
    private readonly directory: string,
    readonly port: number,
  ) {}

  /**
   * Returns false when the PostgreSQL server programs are installed, else why the test must skip.
   * Under CI (`CI=true`) their absence is an error instead.
   */
  static unavailableReason(): string | false {
    if (findBinDirectory() !== undefined) {
      return false;
    }
    const reason = 'PostgreSQL server programs (initdb, pg_ctl) are not installed under /usr/lib/postgresql';
    if (process.env['CI'] === 'true') {
      throw new Error(`${reason} (CI=true, so this is a failure, not a skip)`);
    }
    return reason;
  }

  static async start(): Promise<PrivatePostgres> {
    const binDirectory = findBinDirectory();
    if (binDirectory === undefined) {
      throw new Error('PostgreSQL server programs (initdb, pg_ctl) are not installed');
    }
    const directory = mkdtempSync(join(tmpdir(), 'confab-postgres-'));
    // The postgres user must be able to create the data directory and socket in here.
    chmodSync(directory, 0o777);
    const server = new PrivatePostgres(binDirectory, directory, await freePort());
    await server.runAsOwner('initdb', ['-D', server.dataDirectory, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    await server.startServer();
    return server;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Stops the server; `fast` ends open sessions, as an operator's restart does. */
  async stopServer(): Promise<void> {
    await this.runAsOwner('pg_ctl', ['-D', this.dataDirectory, '-m', 'fast', '-w', 'stop']);
  }

  async startServer(): Promise<void> {
    await this.runAsOwner('pg_ctl', [
      '-D', this.dataDirectory,
      '-l', join(this.directory, 'server.log'),
      '-o', `-p ${this.port} -k ${this.directory} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-w', 'start',
    ]);
  }

  /** Stops the server if it runs and removes its files. */
  async destroy(): Promise<void> {
    await this.stopServer().catch(() => {});
    rmSync(this.directory, { recursive: true, force: true });
  }

  private get dataDirectory(): string {
    return join(this.directory, 'data');
  }

  private async runAsOwner(program: string, args: string[]): Promise<void> {
    const path = join(this.binDirectory, program);
    const asRoot = process.getuid?.() === 0;
    const [command, commandArgs] = asRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
    await run(command, commandArgs, { timeout: COMMAND_TIMEOUT_MS });
  }
}

function findBinDirectory(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) {
    return undefined;
  }
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  return newest === undefined ? undefined : join(root, newest, 'bin');
}
