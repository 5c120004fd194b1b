import type { Broker, BrokerListener, BrokerMessage } from './broker.js';

/** The broker of a single process: there are no other nodes, so publishing reaches no one. */
export class MemoryBroker implements Broker {
  async start(_listener: BrokerListener): Promise<void> {}

  async subscribe(_room: string): Promise<void> {}

  async unsubscribe(_room: string): Promise<void> {}

  async publish(_room: string, _message: BrokerMessage): Promise<void> {}

  async close(): Promise<void> {}
}
