import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { COMPILED_DIRECTORY } from './compile-children.js';

/** Root of the repository, the children's working directory. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const liveChildren = new Set<ChildProcess>();
let exitHooksInstalled = false;

const tasksetAvailable = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

export interface SpawnOptions {
  /** CPU list for taskset, such as "0"; undefined leaves the child unpinned. */
  cpuList: string | undefined;
  env?: Record<string, string>;
  /** Folder for a V8 CPU profile written when the child exits; none when undefined. */
  cpuProfileDirectory?: string | undefined;
}

/** Returns whether children can be pinned to cores on this machine. */
export function canPinCores(): boolean {
  return tasksetAvailable;
}

/**
 * Starts an entry point of the suite, such as `targets/raw-ws-server`, from its transpiled
 * JavaScript (see compile-children.ts) in a child Node process with an IPC channel, pinned to
 * `cpuList` when taskset exists. taskset execs Node, so the child's pid is the Node process whose
 * CPU time is measured. Children inherit the open-file limit; see `openFileLimit`.
 */
export function spawnNodeChild(entry: string, options: SpawnOptions): ChildProcess {
  installExitHooks();

  const profileArgs =
    options.cpuProfileDirectory === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDirectory}`];
  const nodeArgs = ['--expose-gc', ...profileArgs, join(COMPILED_DIRECTORY, `${entry}.js`)];
  const command: string[] = [];
  if (tasksetAvailable && options.cpuList !== undefined) {
    command.push('taskset', '-c', options.cpuList);
  }
  command.push(process.execPath, ...nodeArgs);

  const [program, ...args] = command;
  const child = spawn(program ?? process.execPath, args, {
    cwd: REPOSITORY_ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...options.env },
  });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

/** Pins the calling process to `cpuList`; returns false when that is not possible. */
export function pinCurrentProcess(cpuList: string): boolean {
  if (!tasksetAvailable) {
    return false;
  }
  return spawnSync('taskset', ['-p', '-c', cpuList, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

/** Kills every child still running, by pid. */
export function killAllChildren(): void {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  }
  liveChildren.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) {
    return;
  }
  exitHooksInstalled = true;
  process.once('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exit(130);
    });
  }
}

/**
 * Returns the soft limit on open files that children inherit. Raising the hard limit needs
 * privileges this sandbox does not grant (prlimit fails with EPERM even as root), so the workloads
 * size themselves to it instead.
 */
export function openFileLimit(): number {
  const result = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const value = Number(result.stdout.trim());
  return Number.isFinite(value) && value > 0 ? value : 1024;
}
