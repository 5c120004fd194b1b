import type { ChildProcess } from 'node:child_process';

import { spawnNodeChild, type SpawnOptions } from '../child-processes.js';
import { IpcPeer } from '../ipc-peer.js';
import { sampleProcess, type ProcessSample } from '../process-stats.js';

/** How long a server child may take to start listening, in milliseconds. */
const START_TIMEOUT_MS = 30_000;
/** How long a graceful stop may take before the child is killed, in milliseconds. */
const STOP_TIMEOUT_MS = 15_000;

/** A benchmark server running in its own child process, so that its CPU and memory are its own. */
export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly ipc: IpcPeer,
    readonly pid: number,
    readonly port: number,
    readonly name: string,
  ) {}

  /** Starts `entry` (such as `targets/raw-ws-server`) pinned to `cpuList` and waits until it listens. */
  static async start(
    entry: string,
    name: string,
    options: SpawnOptions,
  ): Promise<ServerProcess> {
    const child = spawnNodeChild(entry, options);
    const ipc = new IpcPeer(child, name);
    try {
      const ready = (await ipc.waitForNotice('ready', START_TIMEOUT_MS)) as { port: number };
      if (child.pid === undefined) {
        throw new Error(`${name} has no pid`);
      }
      return new ServerProcess(child, ipc, child.pid, ready.port, name);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  sample(): ProcessSample {
    return sampleProcess(this.pid);
  }

  /** Runs a full garbage collection in the server, so that resident memory is read after it. */
  async collectGarbage(): Promise<void> {
    await this.ipc.request('gc', undefined, 10_000);
  }

  /** Stops the server gracefully, or kills it when that takes too long. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await this.ipc.request('stop', undefined, STOP_TIMEOUT_MS);
    } catch {
      this.child.kill('SIGKILL');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
