#!/usr/bin/env node
import { parseArgs } from 'node:util';

import { runChat } from './chat-command.js';

const USAGE = `usage: confab chat --url URL --room ROOM (--name NAME | --token TOKEN) [--history N]

Joins ROOM on the Confab server at URL, prints its latest messages, then new messages, presence
changes and typing, and sends each line you type. /who lists the members; /quit exits.
With stdin from a pipe, each line is sent, and confab exits once all are acknowledged.

options:
  --url URL       WebSocket endpoint of the server (default ws://127.0.0.1:8080/ws)
  --room ROOM     room to join (default lobby)
  --name NAME     display name for guest sign-in
  --token TOKEN   JWT for servers that require one (used instead of --name)
  --history N     number of earlier messages to print on joining (default 20)
  -h, --help      print this help
`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string', default: 'ws://127.0.0.1:8080/ws' },
        room: { type: 'string', default: 'lobby' },
        name: { type: 'string' },
        token: { type: 'string' },
        history: { type: 'string', default: '20' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`confab: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'chat') {
    process.stderr.write(`confab: expected the command "chat", got ${JSON.stringify(positionals.join(' '))}\n\n${USAGE}`);
    return 2;
  }
  if (values.name === undefined && values.token === undefined) {
    process.stderr.write(`confab: --name or --token is required\n\n${USAGE}`);
    return 2;
  }
  const historyLimit = Number(values.history);
  if (!Number.isInteger(historyLimit) || historyLimit < 1 || historyLimit > 100) {
    process.stderr.write(`confab: --history must be an integer from 1 to 100, got ${JSON.stringify(values.history)}\n`);
    return 2;
  }

  try {
    return await runChat(
      { url: values.url, room: values.room, name: values.name, token: values.token, historyLimit },
      { input: process.stdin, output: process.stdout, errorOutput: process.stderr },
    );
  } catch (error) {
    // Invalid --url, --room or --name: ConfabClient throws before connecting.
    process.stderr.write(`confab: ${(error as Error).message}\n`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
