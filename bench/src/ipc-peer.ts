import type { ChildProcess } from 'node:child_process';

interface PendingRequest {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface ReplyMessage {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

interface NoticeMessage {
  notice: string;
  payload?: unknown;
}

/**
 * Request and reply over a child's IPC channel, each request bounded in time. A child that exits
 * fails every request still waiting, so a crash never leaves the suite hanging.
 */
export class IpcPeer {
  private nextId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly noticeWaiters = new Map<string, Array<(payload: unknown) => void>>();
  private exitReason: string | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    child.on('message', (message: ReplyMessage | NoticeMessage) => this.handleMessage(message));
    child.on('exit', (code, signal) => {
      this.exitReason = `${name} exited (code ${code ?? 'none'}, signal ${signal ?? 'none'})`;
      for (const request of this.pending.values()) {
        clearTimeout(request.timer);
        request.reject(new Error(this.exitReason));
      }
      this.pending.clear();
    });
  }

  request<T>(type: string, payload: unknown, timeoutMs: number): Promise<T> {
    if (this.exitReason !== undefined) {
      return Promise.reject(new Error(this.exitReason));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: request "${type}" timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.child.send({ id, type, payload });
    });
  }

  /** Resolves with the payload of the next notice of this kind the child sends, such as `ready`. */
  waitForNotice(notice: string, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no "${notice}" notice within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onExit = (): void => {
        clearTimeout(timer);
        reject(new Error(this.exitReason ?? `${this.name} exited before "${notice}"`));
      };
      this.child.once('exit', onExit);
      const waiters = this.noticeWaiters.get(notice) ?? [];
      waiters.push((payload) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        resolve(payload);
      });
      this.noticeWaiters.set(notice, waiters);
    });
  }

  private handleMessage(message: ReplyMessage | NoticeMessage): void {
    if ('notice' in message) {
      const waiters = this.noticeWaiters.get(message.notice) ?? [];
      this.noticeWaiters.delete(message.notice);
      for (const waiter of waiters) {
        waiter(message.payload);
      }
      return;
    }
    const request = this.pending.get(message.id);
    if (request === undefined) {
      return;
    }
    this.pending.delete(message.id);
    clearTimeout(request.timer);
    if (message.ok) {
      request.resolve(message.result);
    } else {
      request.reject(new Error(`${this.name}: ${message.error ?? 'request failed'}`));
    }
  }
}

type RequestHandler = (payload: never) => Promise<unknown> | unknown;

/**
 * Serves requests from the parent in a child process, and exits when the parent goes away, so no
 * child outlives the suite even when the suite itself is killed.
 */
export function serveParentRequests(handlers: Record<string, RequestHandler>): void {
  process.on('message', (message: { id: number; type: string; payload: unknown }) => {
    void handleRequest(handlers, message);
  });
  process.on('disconnect', () => process.exit(0));
}

async function handleRequest(
  handlers: Record<string, RequestHandler>,
  message: { id: number; type: string; payload: unknown },
): Promise<void> {
  const handler = handlers[message.type];
  try {
    if (handler === undefined) {
      throw new Error(`unknown request "${message.type}"`);
    }
    const result = await handler(message.payload as never);
    process.send?.({ id: message.id, ok: true, result });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    process.send?.({ id: message.id, ok: false, error: text });
  }
}

/** Sends an unsolicited notice, such as `ready`, to the parent. */
export function notifyParent(notice: string, payload?: unknown): void {
  process.send?.({ notice, payload });
}
