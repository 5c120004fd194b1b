import { ConfabClient } from '@confab/client';

/** Sends messages to a room as the guest "seeder", in order, and waits until each is stored. */
export async function seedMessages(url: string, room: string, contents: readonly string[]): Promise<void> {
  const client = new ConfabClient({ url, guestName: 'seeder', reconnect: false });
  client.connect();
  const handle = client.room(room);
  try {
    for (const content of contents) {
      await handle.send(content);
    }
  } finally {
    handle.leave();
    client.close();
  }
}
