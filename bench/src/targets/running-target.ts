import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { SpawnOptions } from '../child-processes.js';
import { sampleProcesses, type ProcessSample } from '../process-stats.js';
import { dropPostgresSchema, type BenchEnvironment } from './bench-environment.js';
import { CONFAB_NODE_CONFIG_ENV, type ConfabNodeConfig } from './confab-node-config.js';
import { ServerProcess } from './server-process.js';
import type { TargetSpec } from './target-spec.js';

let schemaCounter = 0;

/** Returns the reason a target cannot run in this environment, or undefined when it can. */
export function targetUnavailableReason(spec: TargetSpec, environment: BenchEnvironment): string | undefined {
  const confab = spec.confab;
  if (confab === undefined) {
    return undefined;
  }
  if (confab.store === 'postgres' && environment.databaseUrl === undefined) {
    return environment.databaseProblem ?? 'PostgreSQL is not configured';
  }
  if (confab.nodes === 2 && environment.redisUrl === undefined) {
    return environment.redisProblem ?? 'Redis is not configured';
  }
  return undefined;
}

/** A started target: one server process, or two nodes for a cluster. */
export class RunningTarget {
  private constructor(
    readonly spec: TargetSpec,
    readonly servers: ServerProcess[],
    private readonly cleanup: () => Promise<void>,
  ) {}

  /** One WebSocket URL per node. */
  get urls(): string[] {
    return this.servers.map((server) => server.url);
  }

  get pids(): number[] {
    return this.servers.map((server) => server.pid);
  }

  /** CPU time and memory of all the target's processes together. */
  sample(): ProcessSample {
    return sampleProcesses(this.pids);
  }

  async collectGarbage(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.collectGarbage()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
    await this.cleanup();
  }

  /** Starts the target's processes with the pinning in `spawn`, each with fresh storage. */
  static async start(spec: TargetSpec, environment: BenchEnvironment, spawn: SpawnOptions): Promise<RunningTarget> {
    if (spec.protocol === 'raw') {
      const server = await ServerProcess.start('targets/raw-ws-server', spec.id, spawn);
      return new RunningTarget(spec, [server], async () => {});
    }
    if (spec.protocol === 'socketio') {
      const server = await ServerProcess.start('targets/socketio-server', spec.id, spawn);
      return new RunningTarget(spec, [server], async () => {});
    }

    const confab = spec.confab;
    if (confab === undefined) {
      throw new Error(`target ${spec.id} speaks the Confab protocol but has no Confab settings`);
    }
    const tempDirectory = mkdtempSync(join(tmpdir(), 'confab-bench-'));
    schemaCounter++;
    const schema = `confab_bench_${process.pid}_${schemaCounter}`;
    const base: ConfabNodeConfig = { store: confab.store, nodeId: 'node-1' };
    if (confab.store === 'sqlite') {
      base.databasePath = join(tempDirectory, 'confab.db');
      base.sqliteSynchronous = confab.sqliteSynchronous ?? 'full';
    }
    if (confab.store === 'postgres') {
      base.databaseUrl = environment.databaseUrl;
      base.postgresSchema = schema;
    }
    if (confab.nodes === 2) {
      base.redisUrl = environment.redisUrl;
    }

    const cleanup = async (): Promise<void> => {
      rmSync(tempDirectory, { recursive: true, force: true });
      if (confab.store === 'postgres' && environment.databaseUrl !== undefined) {
        await dropPostgresSchema(environment.databaseUrl, schema);
      }
    };

    const servers: ServerProcess[] = [];
    try {
      // Nodes start one after the other so that the first creates the schema alone.
      for (let node = 1; node <= confab.nodes; node++) {
        const config: ConfabNodeConfig = { ...base, nodeId: `node-${node}` };
        servers.push(
          await ServerProcess.start('targets/confab-server-child', `${spec.id} node ${node}`, {
            ...spawn,
            env: { [CONFAB_NODE_CONFIG_ENV]: JSON.stringify(config) },
          }),
        );
      }
    } catch (error) {
      await Promise.all(servers.map((server) => server.stop()));
      await cleanup().catch(() => {});
      throw error;
    }
    return new RunningTarget(spec, servers, cleanup);
  }
}
