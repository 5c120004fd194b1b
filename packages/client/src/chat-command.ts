import { clearLine, createInterface, cursorTo } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

import type { RoomEvent, UserRef } from '@confab/protocol';

import { ConfabClient } from './confab-client.js';
import type { ConfabError } from './confab-error.js';
import type { WebSocketConstructor } from './websocket-constructor.js';

export interface ChatOptions {
  url: string;
  room: string;
  /** Guest display name, used when no token is given. */
  name: string | undefined;
  token: string | undefined;
  /** Messages printed from before the session started. */
  historyLimit: number;
}

export interface ChatStreams {
  input: Readable & { isTTY?: boolean };
  output: Writable;
  errorOutput: Writable;
  WebSocket?: WebSocketConstructor;
}

const QUIT_COMMAND = '/quit';
const WHO_COMMAND = '/who';

/**
 * Runs `confab chat`: joins one room, prints its latest messages and then everything new, and
 * sends each input line. Resolves with the process exit code: 0 after `/quit` or the end of
 * piped input with every message stored, 1 when a message failed or the credentials were
 * rejected.
 */
export function runChat(options: ChatOptions, streams: ChatStreams): Promise<number> {
  const interactive = streams.input.isTTY === true;
  const client = new ConfabClient({
    url: options.url,
    ...(options.token === undefined ? { guestName: options.name ?? '' } : { token: options.token }),
    ...(streams.WebSocket === undefined ? {} : { WebSocket: streams.WebSocket }),
    initialHistoryLimit: options.historyLimit,
  });
  const room = client.room(options.room);
  const lines = createInterface({ input: streams.input, terminal: interactive });
  const sends: Promise<unknown>[] = [];
  let failedSends = 0;
  let pendingSends = 0;
  let lastPrintedSeq = 0;
  let typingNames = new Set<string>();
  let finished = false;

  // Output interleaves with the line being typed, so an interactive prompt is cleared first and
  // drawn again after.
  const print = (stream: Writable, text: string): void => {
    if (interactive && stream === streams.output) {
      clearLine(stream, 0);
      cursorTo(stream, 0);
    }
    stream.write(`${text}\n`);
    if (interactive && !finished) {
      lines.prompt(true);
    }
  };

  // Waits while the latest page loads, so that it is printed before the live messages.
  const printNewMessages = (): void => {
    if (room.loadingOlder) {
      return;
    }
    for (const event of room.messages) {
      if (event.seq > lastPrintedSeq) {
        print(streams.output, formatMessage(event));
        lastPrintedSeq = event.seq;
      }
    }
  };

  room.on('change', printNewMessages);
  room.on('reset', () => {
    lastPrintedSeq = 0;
    print(streams.output, '* the server could not resume the room; showing its latest messages again');
  });
  room.on('presence', ({ action, user }) => {
    print(streams.output, `* ${user.name} ${action === 'join' ? 'joined' : 'left'}`);
  });
  room.on('typing', (users) => {
    const names = new Set(users.map((user: UserRef) => user.name));
    for (const name of names) {
      if (!typingNames.has(name)) {
        print(streams.output, `* ${name} is typing…`);
      }
    }
    typingNames = names;
  });
  room.on('error', (error: ConfabError) => {
    print(streams.errorOutput, `! room ${room.name}: ${error.message} (${error.code})`);
  });
  client.on('error', (error) => {
    print(streams.errorOutput, `! ${error.message} (${error.code})`);
  });
  client.on('state', ({ oldState, newState }) => {
    if (newState === 'reconnecting' || oldState === 'reconnecting') {
      print(streams.errorOutput, `* connection ${newState}`);
    }
  });

  return new Promise<number>((resolve) => {
    let exited = false;
    const exit = (code: number): void => {
      if (exited) {
        return;
      }
      exited = true;
      finished = true;
      lines.close();
      room.leave();
      client.close();
      resolve(code);
    };

    // Stops reading and exits once every message sent so far is acknowledged or failed.
    const finish = async (): Promise<void> => {
      if (finished) {
        return;
      }
      finished = true;
      lines.close();
      if (pendingSends > 0) {
        print(
          streams.errorOutput,
          `* waiting for ${pendingSends} message(s) to be acknowledged; press Ctrl+C to quit without them`,
        );
      }
      await Promise.allSettled(sends);
      exit(failedSends > 0 ? 1 : 0);
    };

    client.on('state', ({ newState }) => {
      // Disconnected without close(): the credentials were rejected, and retrying cannot help.
      if (newState === 'disconnected') {
        exit(1);
      }
    });

    lines.on('line', (line) => {
      // readline still emits the rest of a chunk's lines after close().
      if (finished) {
        return;
      }
      const text = line.trim();
      if (text === QUIT_COMMAND) {
        void finish();
        return;
      }
      if (text === WHO_COMMAND) {
        const names = room.members.map((member) => `${member.name} (${member.devices})`);
        print(streams.output, `* in ${room.name}: ${names.join(', ') || 'nobody'}`);
        return;
      }
      if (text === '') {
        if (interactive) {
          lines.prompt();
        }
        return;
      }
      pendingSends++;
      const sent = room
        .send(line)
        .catch((error: ConfabError) => {
          failedSends++;
          print(streams.errorOutput, `! not sent: ${error.message} (${error.code})`);
        })
        .finally(() => {
          pendingSends--;
        });
      sends.push(sent);
    });
    lines.on('close', () => void finish());
    // A second interrupt while finish() waits exits at once and reports what was left unsent.
    lines.on('SIGINT', () => {
      if (finished && pendingSends > 0) {
        print(streams.errorOutput, `! quit with ${pendingSends} message(s) not sent`);
        exit(1);
        return;
      }
      void finish();
    });

    if (interactive) {
      streams.input.on('keypress', (_character: string, key: { name?: string } | undefined) => {
        if (key?.name !== 'return' && key?.name !== 'enter') {
          // A command being typed (/who, /quit) is not a message, so others are not shown typing.
          room.setTyping(lines.line !== '' && !lines.line.startsWith('/'));
        }
      });
      lines.setPrompt('> ');
      lines.prompt();
    }

    client.connect();
  });
}

function formatMessage(event: RoomEvent): string {
  const time = new Date(event.timestamp).toTimeString().slice(0, 8);
  return `[${time}] ${event.sender.name}: ${event.content}`;
}
