// Handler properties are typed through a method signature so that they compare bivariantly: the
// DOM's and the `ws` package's WebSocket classes declare richer event types, and both must be
// assignable here.
type Handler<T> = { handle(event: T): void }['handle'];

/** The part of the WHATWG WebSocket interface the SDK uses; the DOM and `ws` both provide it. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket class such as the browser's global `WebSocket` or the `ws` package's default export. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** `readyState` of an open socket, the same in every implementation. */
export const WEBSOCKET_OPEN = 1;

// The specifier is a variable, so bundlers do not follow it into a browser build. The magic
// comments silence the warnings that webpack and Vite give for such an import.
const NODE_WEBSOCKET_MODULE = 'ws';

/**
 * Returns the WebSocket class to use: the one the app passed, else the global one (browsers,
 * Deno, Node 22+), else the `ws` package, loaded only when needed (Node 20 has no global one).
 */
export async function resolveWebSocketConstructor(
  injected: WebSocketConstructor | undefined,
): Promise<WebSocketConstructor> {
  if (injected !== undefined) {
    return injected;
  }

  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global !== undefined) {
    return global;
  }

  try {
    const loaded = (await import(/* webpackIgnore: true */ /* @vite-ignore */ NODE_WEBSOCKET_MODULE)) as {
      default?: WebSocketConstructor;
      WebSocket?: WebSocketConstructor;
    };
    const constructor = loaded.default ?? loaded.WebSocket;
    if (constructor === undefined) {
      throw new Error('the ws module has no default export');
    }
    return constructor;
  } catch (error) {
    throw new Error(
      'no WebSocket implementation found: this runtime has no global WebSocket and the "ws" package ' +
        'could not be loaded; install ws or pass the WebSocket option',
      { cause: error },
    );
  }
}
