#!/usr/bin/env node
// Starts a local Confab cluster for development: N server processes on consecutive ports, sharing
// the local PostgreSQL and Redis, until Ctrl+C. Run through `npm run cluster -- --nodes 3`.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const CLI_PATH = fileURLToPath(new URL('../cli.js', import.meta.url));
const DEFAULT_NODES = 3;
const DEFAULT_BASE_PORT = 8081;
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const MAX_NODES = 32;
/** How long a node may take to shut down after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 15_000;
const WEBSOCKET_LINE = /WebSocket: (ws:\/\/\S+)/;

const HELP = `Usage: npm run cluster -- [options]

Starts a local Confab cluster: N nodes on consecutive ports that share one PostgreSQL log and one
Redis, until Ctrl+C. Put any load balancer without sticky sessions in front of the ports.

  --nodes <n>            number of nodes (default ${DEFAULT_NODES})
  --base-port <port>     port of the first node; the others follow (default ${DEFAULT_BASE_PORT})
  --database-url <url>   PostgreSQL URL (default $CONFAB_DATABASE_URL or ${DEFAULT_DATABASE_URL})
  --redis-url <url>      Redis URL (default $CONFAB_REDIS_URL or ${DEFAULT_REDIS_URL})
  --log-level <level>    log level of every node (default info)
  --help                 print this text and exit

Other settings reach every node through the CONFAB_* environment variables that confab-server reads
(see confab-server --help and docs/cluster.md).`;

interface LocalNode {
  name: string;
  port: number;
  child: ChildProcess;
  exited: Promise<unknown>;
}

function fail(message: string): never {
  console.error(`cluster: ${message}\n\n${HELP}`);
  process.exit(2);
}

function parseInteger(value: string | undefined, fallback: number, flag: string, min: number, max: number): number {
  if (value === undefined) {
    return fallback;
  }
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    fail(`invalid --${flag} ${JSON.stringify(value)}: use an integer from ${min} to ${max}`);
  }
  return parsed;
}

function startNode(name: string, port: number, databaseUrl: string, redisUrl: string, logLevel: string): LocalNode {
  const child = spawn(
    process.execPath,
    [CLI_PATH, '--port', String(port), '--node-id', name, '--database-url', databaseUrl, '--redis-url', redisUrl, '--log-level', logLevel],
    // A process group of its own: the terminal's Ctrl+C reaches only this script, which then
    // stops each node once, with SIGTERM.
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        console.log(`[${name}] ${line}`);
      }
    });
  }
  return { name, port, child, exited: once(child, 'exit') };
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        nodes: { type: 'string' },
        'base-port': { type: 'string' },
        'database-url': { type: 'string' },
        'redis-url': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    console.log(HELP);
    return;
  }

  const count = parseInteger(values.nodes, DEFAULT_NODES, 'nodes', 1, MAX_NODES);
  const basePort = parseInteger(values['base-port'], DEFAULT_BASE_PORT, 'base-port', 1, 65535 - count + 1);
  const databaseUrl = values['database-url'] ?? process.env['CONFAB_DATABASE_URL'] ?? DEFAULT_DATABASE_URL;
  const redisUrl = values['redis-url'] ?? process.env['CONFAB_REDIS_URL'] ?? DEFAULT_REDIS_URL;
  const logLevel = values['log-level'] ?? 'info';

  const nodes: LocalNode[] = [];
  for (let index = 0; index < count; index++) {
    nodes.push(startNode(`node-${index + 1}`, basePort + index, databaseUrl, redisUrl, logLevel));
  }

  // Last resort: if this script exits by any path, no node outlives it.
  process.on('exit', () => {
    for (const node of nodes) {
      if (node.child.exitCode === null && node.child.signalCode === null) {
        node.child.kill('SIGKILL');
      }
    }
  });

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) {
      return;
    }
    stopping = true;
    console.log(`\nStopping ${nodes.length} nodes...`);
    await Promise.all(
      nodes.map(async (node) => {
        if (node.child.exitCode !== null || node.child.signalCode !== null) {
          return;
        }
        node.child.kill('SIGTERM');
        const timer = setTimeout(() => node.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await node.exited;
        clearTimeout(timer);
      }),
    );
    console.log('All nodes stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());

  const listening = nodes.map(
    (node) =>
      new Promise<boolean>((resolve) => {
        let output = '';
        node.child.stderr?.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (WEBSOCKET_LINE.test(output)) {
            resolve(true);
          }
        });
        void node.exited.then(() => resolve(false));
      }),
  );
  for (const node of nodes) {
    void node.exited.then(() => {
      if (stopping) {
        return;
      }
      const running = nodes.filter((other) => other.child.exitCode === null && other.child.signalCode === null);
      if (running.length === 0) {
        console.error('cluster: every node has exited');
        process.exit(1);
      }
      console.error(`cluster: ${node.name} (port ${node.port}) exited; the other nodes keep running`);
    });
  }

  const started = await Promise.all(listening);
  if (stopping) {
    return;
  }
  const lines = nodes.map(
    (node, index) =>
      `  ${node.name}  ${started[index] === true ? `http://127.0.0.1:${node.port}/  ws://127.0.0.1:${node.port}/ws` : 'failed to start (see its log above)'}`,
  );
  console.log(`\nConfab cluster of ${count} nodes (PostgreSQL ${redact(databaseUrl)}, Redis ${redact(redisUrl)}):\n${lines.join('\n')}\nPress Ctrl+C to stop them all.`);
}

/** Hides a password in a URL before printing it. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') {
      parsed.password = '***';
    }
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

await main();
