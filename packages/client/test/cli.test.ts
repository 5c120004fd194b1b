import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { contents, createClient, TestServer, waitFor } from './support/harness.js';

const CLI_PATH = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const CLI_TIMEOUT_MS = 20_000;

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with `input` piped to stdin, and collects its output. */
function runCli(args: string[], input: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`confab ${args.join(' ')} did not exit within ${CLI_TIMEOUT_MS} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, CLI_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe('confab chat', () => {
  let server: TestServer;

  before(async () => {
    server = await TestServer.start();
  });

  after(async () => {
    await server.close();
  });

  test('piped lines are sent in order', async () => {
    const watcher = createClient(server.url, { guestName: 'watcher' });
    watcher.connect();
    const room = watcher.room('cli');
    try {
      await waitFor('watcher joined', () => room.status === 'joined');
      await room.send('before the cli');

      const result = await runCli(
        ['chat', '--url', server.url, '--room', 'cli', '--name', 'piper'],
        'first line\n\nsecond line\nthird line\n',
      );
      assert.equal(result.code, 0, `stderr: ${result.stderr}`);
      assert.match(result.stdout, /\] watcher: before the cli\n/, 'history printed');

      await waitFor('lines delivered', () => room.messages.length === 4);
      assert.deepEqual(contents(room), ['before the cli', 'first line', 'second line', 'third line']);
      assert.ok(room.messages.slice(1).every((event) => event.sender.name === 'piper'));
    } finally {
      watcher.close();
    }
  });

  test('/quit stops reading', async () => {
    const result = await runCli(['chat', '--url', server.url, '--room', 'quit', '--name', 'quitter'], 'sent\n/quit\nnot sent\n');
    assert.equal(result.code, 0, `stderr: ${result.stderr}`);

    const reader = createClient(server.url, { guestName: 'reader' });
    reader.connect();
    const room = reader.room('quit');
    try {
      await waitFor('joined', () => room.status === 'joined' && !room.loadingOlder);
      assert.deepEqual(contents(room), ['sent']);
    } finally {
      reader.close();
    }
  });

  test('live messages and presence printed', async () => {
    const talker = createClient(server.url, { guestName: 'talker' });
    talker.connect();
    const room = talker.room('live');
    try {
      await waitFor('talker joined', () => room.status === 'joined');
      // The CLI stays until its input ends; the talker speaks once the CLI is in the room.
      const child = spawn(process.execPath, [CLI_PATH, 'chat', '--url', server.url, '--room', 'live', '--name', 'listener'], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      try {
        await waitFor('listener in the room', () => room.members.some((member) => member.name === 'listener'));
        await room.send('hello listener');
        await waitFor('message printed', () => stdout.includes('talker: hello listener'));
        child.stdin.end('bye\n');
        assert.equal(await exited, 0);
        await waitFor('bye delivered', () => contents(room).includes('bye'));
        assert.match(stdout, /\* listener joined|talker: hello listener/);
      } finally {
        child.kill();
      }
    } finally {
      talker.close();
    }
  });

  test('usage errors exit with 2', async () => {
    const missingName = await runCli(['chat', '--url', server.url], '');
    assert.equal(missingName.code, 2);
    assert.match(missingName.stderr, /--name or --token is required/);

    const unknownCommand = await runCli(['talk', '--name', 'x'], '');
    assert.equal(unknownCommand.code, 2);
    assert.match(unknownCommand.stderr, /expected the command "chat", got "talk"/);

    const badUrl = await runCli(['chat', '--url', 'http://127.0.0.1:1/', '--name', 'x'], '');
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /must start with ws:\/\/ or wss:\/\//);

    const help = await runCli(['--help'], '');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /usage: confab chat/);
  });

  test('rejected credentials exit with 1', async () => {
    const secured = await TestServer.start({ jwtSecret: 'cli-test-secret-that-is-long-enough', allowGuests: false });
    try {
      const result = await runCli(['chat', '--url', secured.url, '--token', 'not-a-jwt'], 'never sent\n');
      assert.equal(result.code, 1);
      assert.match(result.stderr, /\(unauthorized\)/);
    } finally {
      await secured.close();
    }
  });
});
