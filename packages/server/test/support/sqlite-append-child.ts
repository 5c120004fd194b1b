// A child process for the crash test of the SQLite store: it appends to two rooms until it is
// killed, and prints "<clientMessageId> <room> <seq>" for each append once it has resolved.
// Usage: node --import tsx sqlite-append-child.ts <database path> <full|normal>
import { pino } from 'pino';

import { SqliteStore } from '../../src/store/sqlite-store.js';

// Appends kept in flight at once, so that batches of several appends are committed.
const APPENDS_IN_FLIGHT = 64;

const [path, synchronous] = process.argv.slice(2);
if (path === undefined || (synchronous !== 'full' && synchronous !== 'normal')) {
  process.stderr.write('usage: sqlite-append-child.ts <database path> <full|normal>\n');
  process.exit(2);
}

const store = new SqliteStore({ path, synchronous, logger: pino({ level: 'silent' }) });
await store.open();

let nextIndex = 0;

function appendNext(): void {
  const index = nextIndex++;
  const room = index % 2 === 0 ? 'room-even' : 'room-odd';
  const clientMessageId = `c-${index}`;
  store
    .append({
      room,
      kind: 'message',
      sender: { id: 'user-child', name: 'Child' },
      clientMessageId,
      content: `message ${index}`,
    })
    .then(
      ({ event }) => {
        // Writes to a pipe are synchronous on Linux, so a line the parent reads was acknowledged.
        process.stdout.write(`${clientMessageId} ${room} ${event.seq}\n`);
        appendNext();
      },
      (error: unknown) => {
        process.stderr.write(`append ${clientMessageId} failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
}

for (let i = 0; i < APPENDS_IN_FLIGHT; i++) {
  appendNext();
}
