import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built command-line entry point, written by the `tsc -b` that `npm test` runs first. */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

const DEFAULT_START_TIMEOUT_MS = 30_000;
// The CLI prints this line on stderr once it listens.
const WEBSOCKET_LINE = /WebSocket: (ws:\/\/\S+?:(\d+)\/ws)/;

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A Confab server running as a child process of the test. */
export interface CliServer {
  child: ChildProcess;
  url: string;
  httpUrl: string;
  port: number;
  /** Resolves when the process has exited, with what it printed. */
  exited: Promise<CliExit>;
}

/** Runs the CLI to completion (for `--help` or a refused start), killing it after `timeoutMs`. */
export async function runCli(args: string[], timeoutMs = DEFAULT_START_TIMEOUT_MS): Promise<CliExit> {
  const child = spawnCli(args);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await collectExit(child);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts the CLI with `args` and resolves once it prints its WebSocket address. Rejects, after
 * killing the child, when it exits or stays silent for `timeoutMs`.
 */
export function startCliServer(args: string[], timeoutMs = DEFAULT_START_TIMEOUT_MS): Promise<CliServer> {
  const child = spawnCli(args);
  const exited = collectExit(child);
  let stderr = '';

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI printed no WebSocket address within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);

    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = WEBSOCKET_LINE.exec(stderr);
      if (match === null) {
        return;
      }
      clearTimeout(timer);
      const url = match[1] as string;
      const port = Number(match[2]);
      resolve({ child, url, httpUrl: url.replace(/^ws:/, 'http:').replace(/\/ws$/, ''), port, exited });
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited (code ${exit.code}, signal ${exit.signal}) before listening; stderr: ${exit.stderr}`));
    });
  });
}

function spawnCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function collectExit(child: ChildProcess): Promise<CliExit> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
