import { deleteKeys, dropSchema, TEST_DATABASE_URL, TEST_REDIS_URL, uniqueKeyPrefix, uniqueSchemaName } from './cluster-backends.js';
import { ClusterNodeProcess, type ClusterNodeOptions } from './cluster-node-process.js';
import { freePort } from './private-redis.js';
import { ResumingClient } from './resuming-client.js';
import { signTestToken } from './test-tokens.js';

export interface TestClusterOptions {
  nodes: number;
  redisUrl?: string;
  databaseUrl?: string;
  presenceLeaseTtlMs?: number;
  /** Clock offset of each node by index, in milliseconds. */
  clockOffsetsMs?: number[];
  args?: string[];
}

/**
 * Node processes sharing one PostgreSQL schema and one Redis key prefix of their own, with the
 * clients a test made on them. `stop` ends everything and removes the schema and keys.
 */
export class TestCluster {
  readonly nodes: ClusterNodeProcess[] = [];
  private readonly clients: ResumingClient[] = [];

  private constructor(
    readonly options: TestClusterOptions,
    readonly schema: string,
    readonly keyPrefix: string,
  ) {}

  static async start(options: TestClusterOptions): Promise<TestCluster> {
    const cluster = new TestCluster(options, uniqueSchemaName(), uniqueKeyPrefix());
    try {
      for (let index = 0; index < options.nodes; index++) {
        cluster.nodes.push(await ClusterNodeProcess.start(cluster.nodeOptions(index, await freePort())));
      }
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  /** Starts node `index` again on its port, as an operator restarting it would. */
  async restartNode(index: number): Promise<ClusterNodeProcess> {
    const previous = this.nodes[index];
    if (previous === undefined) {
      throw new Error(`no node ${index}`);
    }
    await previous.kill();
    const node = await ClusterNodeProcess.start(previous.options);
    this.nodes[index] = node;
    return node;
  }

  /** Creates a client of user `userId` that starts on node `nodeIndex` and joins `rooms`. */
  async client(name: string, nodeIndex: number, rooms: string[], options: { userId?: string; reconnect?: boolean } = {}): Promise<ResumingClient> {
    const userId = options.userId ?? name;
    const client = new ResumingClient({
      name,
      userId,
      token: await signTestToken({ sub: userId, name }),
      urls: this.urls,
      startIndex: nodeIndex,
      rooms,
      reconnect: options.reconnect ?? true,
    });
    this.clients.push(client);
    await client.connect();
    return client;
  }

  async stop(): Promise<void> {
    for (const client of this.clients) {
      client.close();
    }
    await Promise.all(this.nodes.map((node) => node.stop()));
    await dropSchema(this.schema, this.options.databaseUrl);
    await deleteKeys(this.options.redisUrl ?? TEST_REDIS_URL, this.keyPrefix).catch(() => {});
  }

  private nodeOptions(index: number, port: number): ClusterNodeOptions {
    const options: ClusterNodeOptions = {
      nodeId: `node-${index + 1}`,
      port,
      databaseUrl: this.options.databaseUrl ?? TEST_DATABASE_URL,
      redisUrl: this.options.redisUrl ?? TEST_REDIS_URL,
      schema: this.schema,
      keyPrefix: this.keyPrefix,
    };
    if (this.options.presenceLeaseTtlMs !== undefined) {
      options.presenceLeaseTtlMs = this.options.presenceLeaseTtlMs;
    }
    const offset = this.options.clockOffsetsMs?.[index];
    if (offset !== undefined && offset !== 0) {
      options.clockOffsetMs = offset;
    }
    if (this.options.args !== undefined) {
      options.args = this.options.args;
    }
    return options;
  }
}

/** Polls `condition` every 25 ms until it holds, failing with `description` after `timeoutMs`. */
export async function waitUntil(description: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Returns the highest seq acknowledged in `room` to any of the clients. */
export function highestAckedSeq(clients: ResumingClient[], room: string): number {
  let highest = 0;
  for (const client of clients) {
    for (const send of client.sends) {
      if (send.room === room && send.ack !== undefined) {
        highest = Math.max(highest, send.ack.seq);
      }
    }
  }
  return highest;
}
