import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem } from 'node:os';

import { openFileLimit } from '../child-processes.js';

/** The machine and software a run was measured on. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  kernel: string;
  nodeVersion: string;
  date: string;
  /** 1-minute load average at the start and the end of the run: other processes share the machine. */
  loadAverageStart: number;
  loadAverageEnd?: number;
  openFileLimit: number;
  gitCommit: string;
  versions: Record<string, string>;
}

const require = createRequire(import.meta.url);

/** Reads the machine's description at the start of a run. */
export function describeMachine(): MachineInfo {
  const processors = cpus();
  return {
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryBytes: totalmem(),
    kernel: release(),
    nodeVersion: process.version,
    date: new Date().toISOString(),
    loadAverageStart: loadavg()[0] ?? 0,
    openFileLimit: openFileLimit(),
    gitCommit: readGitCommit(),
    versions: {
      ws: packageVersion('ws'),
      'socket.io': packageVersion('socket.io'),
      'better-sqlite3': packageVersion('better-sqlite3'),
      pg: packageVersion('pg'),
    },
  };
}

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function readGitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty === '' ? commit : `${commit} with uncommitted changes`;
  } catch {
    return 'unknown';
  }
}
