import {
  countCodePoints,
  DEFAULT_LIMITS,
  hasControlCharacter,
  MAX_DISPLAY_NAME_CODE_POINTS,
  FATAL_AUTH_ERROR_CODES,
  GUEST_KEY_PATTERN,
  FATAL_CLOSE_CODES,
  PROTOCOL_VERSION,
  ROOM_NAME_PATTERN,
  type ErrorCode,
  type ErrorFrame,
  type ServerFrame,
  type ServerLimits,
  type TypingRequestFrame,
  type WelcomeFrame,
} from '@confab/protocol';

import { Backoff } from './backoff.js';
import {
  DEFAULT_INITIAL_HISTORY_LIMIT,
  DEFAULT_RECONNECT_OPTIONS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SEND_RETRY,
  DEFAULT_TYPING_IDLE_MS,
  DEFAULT_TYPING_LEEWAY_MS,
  DEFAULT_TYPING_RENEW_INTERVAL_MS,
  type ConfabClientOptions,
  type ReconnectOptions,
} from './client-options.js';
import { ConfabError } from './confab-error.js';
import { createClientMessageId } from './create-client-message-id.js';
import type { ConnectionState, ConnectionStateChange } from './connection-state.js';
import { SILENT_LOGGER, type Logger } from './logger.js';
import { RequestTracker } from './request-tracker.js';
import type { ReplyTo, RequestFrame, RoomLink, RoomSettings, SessionUser } from './room-link.js';
import { Room } from './room.js';
import { TypedEmitter } from './typed-emitter.js';
import { resolveWebSocketConstructor, type WebSocketLike } from './websocket-constructor.js';

export interface ConfabClientEvents {
  /** Every change of `client.state`. */
  state: ConnectionStateChange;
  /** A failure not tied to a request: rejected credentials, an unsolicited error frame, … */
  error: ConfabError;
  /** The server accepted the credentials on a new connection. */
  welcome: WelcomeFrame;
  /** A connection ended; `willReconnect` is true when the client tries again by itself. */
  disconnect: { code: number; reason: string; willReconnect: boolean };
}

type Credentials = { token: string } | { guest: { name: string; key: string } };

/** Close code reported for a connection the client dropped itself (no close frame was exchanged). */
const ABNORMAL_CLOSE_CODE = 1006;

/**
 * A connection to one Confab server, shared by every room the app joins on it.
 *
 * @example
 * const client = new ConfabClient({ url: 'ws://127.0.0.1:8080/ws', guestName: 'alice' });
 * client.connect();
 * const room = client.room('lobby');
 * room.on('message', (event) => console.log(event.sender.name, event.content));
 * await room.send('hello');
 */
export class ConfabClient extends TypedEmitter<ConfabClientEvents> {
  readonly url: string;
  readonly #options: ConfabClientOptions;
  readonly #guestKey: string;
  readonly #logger: Logger;
  readonly #reconnect: ReconnectOptions | false;
  readonly #requestTimeoutMs: number;
  readonly #backoff: Backoff;
  readonly #requests = new RequestTracker();
  readonly #rooms = new Map<string, Room>();
  readonly #link: RoomLink;
  #state: ConnectionState = 'disconnected';
  /** True from `connect()` until `close()` or a fatal failure. */
  #active = false;
  #socket: WebSocketLike | null = null;
  /** The current socket's welcome; null while no authenticated session is open. */
  #session: WelcomeFrame | null = null;
  #user: SessionUser | null = null;
  #epoch: string | null = null;
  #limits: ServerLimits = { ...DEFAULT_LIMITS };
  /** Bumped by every connection attempt and by `close()`, so that stale attempts stop. */
  #attempt = 0;
  #fatalError: ConfabError | null = null;
  #lastFrameAtMs = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #stableTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: ConfabClientOptions) {
    super();
    this.url = validateUrl(options.url);
    if (options.token === undefined && options.guestName === undefined) {
      throw new ConfabError('invalid_field', 'ConfabClient needs credentials: pass token or guestName', {
        field: 'token',
      });
    }
    if (options.token === undefined) {
      validateGuestName(options.guestName);
    }

    if (options.guestKey !== undefined && !GUEST_KEY_PATTERN.test(options.guestKey)) {
      throw new ConfabError('invalid_field', 'guestKey must be 16 to 128 characters of A-Z, a-z, 0-9, _ and -', {
        field: 'guestKey',
      });
    }

    this.#options = options;
    this.#guestKey = options.guestKey ?? createClientMessageId();
    this.#logger = options.logger ?? SILENT_LOGGER;
    this.emitterLogger = this.#logger;
    this.#reconnect = options.reconnect === false ? false : { ...DEFAULT_RECONNECT_OPTIONS, ...options.reconnect };
    this.#backoff = new Backoff(this.#reconnect === false ? {} : this.#reconnect);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#link = this.#createRoomLink({
      initialHistoryLimit: options.initialHistoryLimit ?? DEFAULT_INITIAL_HISTORY_LIMIT,
      typingRenewIntervalMs: options.typingRenewIntervalMs ?? DEFAULT_TYPING_RENEW_INTERVAL_MS,
      typingIdleMs: options.typingIdleMs ?? DEFAULT_TYPING_IDLE_MS,
      typingLeewayMs: options.typingLeewayMs ?? DEFAULT_TYPING_LEEWAY_MS,
      sendRetry: { ...DEFAULT_SEND_RETRY, ...options.sendRetry },
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The signed-in user from the latest `welcome`, or null before the first one. */
  get user(): SessionUser | null {
    return this.#user;
  }

  /** The server's limits from the latest `welcome`; the protocol defaults before it. */
  get limits(): ServerLimits {
    return this.#limits;
  }

  /** The server log's epoch from the latest `welcome`, or null before the first one. */
  get epoch(): string | null {
    return this.#epoch;
  }

  /** Opens the connection; the client then keeps it open until `close()` or a fatal failure. */
  connect(): void {
    if (this.#active) {
      return;
    }
    this.#active = true;
    this.#backoff.reset();
    this.#setState('connecting');
    void this.#open();
  }

  /**
   * Closes the connection and stops reconnecting. Requests in flight reject with `closed`, and
   * so do messages not yet stored, which stay in `room.pending` as failed. Rooms are kept: a
   * later `connect()` joins them again.
   */
  close(): void {
    this.#active = false;
    this.#attempt++;
    clearTimeout(this.#reconnectTimer);
    this.#stopSessionTimers();

    const socket = this.#socket;
    this.#socket = null;
    this.#session = null;
    if (socket !== null) {
      detach(socket);
      closeQuietly(socket, 1000, 'client closed');
    }

    const error = new ConfabError('closed', 'the client was closed before the reply arrived');
    this.#requests.rejectAll(error);
    for (const room of this.#rooms.values()) {
      room.handleClosed(new ConfabError('closed', 'the client was closed before the message was stored'));
    }
    this.#setState('disconnected');
  }

  /**
   * Returns the room's `Room`, joining it on the first call. Each call counts one holder, and
   * each holder calls `room.leave()` once; the room is left when the count returns to zero.
   */
  room(name: string): Room {
    if (typeof name !== 'string' || !ROOM_NAME_PATTERN.test(name)) {
      throw new ConfabError(
        'invalid_field',
        `room name ${JSON.stringify(name)} is invalid: use 1 to 64 characters of A-Z, a-z, 0-9 and ._:- starting with a letter or digit`,
        { field: 'room' },
      );
    }

    const existing = this.#rooms.get(name);
    if (existing !== undefined) {
      existing.acquire();
      return existing;
    }

    const room = new Room(name, this.#link);
    this.#rooms.set(name, room);
    room.acquire();
    if (this.#session !== null) {
      room.handleConnected();
    }
    return room;
  }

  /** Returns the room's `Room` if a holder has it (or released it a moment ago), without joining. */
  getRoom(name: string): Room | undefined {
    return this.#rooms.get(name);
  }

  /** Measures the round trip to the server. */
  async ping(): Promise<{ serverTime: number; roundTripMs: number }> {
    const startedAtMs = Date.now();
    const pong = await this.#request({ type: 'ping' });
    return { serverTime: pong.serverTime, roundTripMs: Date.now() - startedAtMs };
  }

  async #open(): Promise<void> {
    const attempt = ++this.#attempt;
    this.#fatalError = null;

    let socket: WebSocketLike;
    let credentials: Credentials;
    try {
      const WebSocketClass = await resolveWebSocketConstructor(this.#options.WebSocket);
      credentials = await this.#readCredentials();
      if (attempt !== this.#attempt) {
        return;
      }
      socket = new WebSocketClass(this.url, PROTOCOL_VERSION);
    } catch (cause) {
      if (attempt !== this.#attempt) {
        return;
      }
      const error =
        cause instanceof ConfabError
          ? cause
          : new ConfabError('internal', `opening a connection to ${this.url} failed: ${String(cause)}`, { cause });
      this.#logger.warn('connection attempt failed before the socket opened', { code: error.code, error });
      this.emit('error', error);
      this.#afterConnectionEnd(ABNORMAL_CLOSE_CODE, error.message);
      return;
    }

    this.#socket = socket;
    // Binary frames are decoded synchronously, which a Blob (the browser default) cannot be.
    (socket as WebSocketLike & { binaryType?: string }).binaryType = 'arraybuffer';
    socket.onopen = () => this.#authenticate(socket, credentials);
    socket.onmessage = (event) => this.#handleMessage(socket, event.data);
    socket.onclose = (event) => this.#handleClose(socket, event.code, event.reason);
    // An error is always followed by a close, which does the cleanup.
    socket.onerror = () => this.#logger.debug('socket error', { url: this.url });
  }

  async #readCredentials(): Promise<Credentials> {
    const token = this.#options.token;
    if (token === undefined) {
      return { guest: { name: this.#options.guestName ?? '', key: this.#guestKey } };
    }
    if (typeof token === 'string') {
      return { token };
    }

    let value: unknown;
    try {
      value = await token();
    } catch (cause) {
      throw new ConfabError('token_unavailable', `the token function threw: ${String(cause)}`, { cause });
    }
    if (typeof value !== 'string' || value === '') {
      throw new ConfabError(
        'token_unavailable',
        `the token function returned ${value === '' ? 'an empty string' : typeof value}; it must return a JWT string`,
      );
    }
    return { token: value };
  }

  #authenticate(socket: WebSocketLike, credentials: Credentials): void {
    if (socket !== this.#socket) {
      return;
    }

    const requestId = this.#requests.nextId();
    this.#requests
      .track<WelcomeFrame>(requestId, 'auth', this.#requestTimeoutMs, (welcome) => this.#handleWelcome(socket, welcome))
      .catch((error: unknown) => this.#handleAuthFailure(socket, error));
    transmit(socket, { type: 'auth', requestId, ...credentials }, this.#logger);
  }

  #handleWelcome(socket: WebSocketLike, welcome: WelcomeFrame): void {
    if (socket !== this.#socket) {
      return;
    }

    this.#session = welcome;
    this.#user = welcome.user;
    this.#epoch = welcome.epoch;
    this.#limits = welcome.limits;
    this.#lastFrameAtMs = Date.now();
    this.#startHeartbeat(socket, welcome.pingIntervalMs);
    if (this.#reconnect !== false) {
      this.#stableTimer = setTimeout(() => this.#backoff.reset(), this.#reconnect.stableAfterMs);
    }
    this.#logger.info('connected', { url: this.url, sessionId: welcome.sessionId, userId: welcome.user.id });

    this.#setState('connected');
    this.emit('welcome', welcome);
    for (const room of this.#rooms.values()) {
      if (room.references > 0) {
        room.handleConnected();
      }
    }
  }

  #handleAuthFailure(socket: WebSocketLike, cause: unknown): void {
    if (socket !== this.#socket) {
      return;
    }
    const error = cause instanceof ConfabError ? cause : new ConfabError('internal', String(cause), { cause });
    if (error.code === 'disconnected' || error.code === 'closed') {
      return;
    }

    // Rejected credentials, and a malformed auth frame, fail the same way on every retry.
    if (FATAL_AUTH_ERROR_CODES.has(error.code as ErrorCode) || error.code === 'invalid_field') {
      this.#fatalError = error;
    }
    this.#logger.warn('authentication failed', { code: error.code, message: error.message });
    this.emit('error', error);
    this.#dropSocket(socket, ABNORMAL_CLOSE_CODE, `authentication failed: ${error.code}`);
  }

  #handleMessage(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.#socket) {
      return;
    }
    this.#lastFrameAtMs = Date.now();

    const text = decodeFrame(data);
    if (text === null) {
      this.#logger.warn('ignored a binary frame that is not UTF-8 text');
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.#logger.warn('ignored a frame that is not valid JSON', { length: text.length });
      return;
    }
    if (typeof frame !== 'object' || frame === null || typeof (frame as { type?: unknown }).type !== 'string') {
      this.#logger.warn('ignored a frame with no string type');
      return;
    }
    this.#dispatch(frame as ServerFrame);
  }

  #dispatch(frame: ServerFrame): void {
    switch (frame.type) {
      case 'error': {
        const error = errorFromFrame(frame);
        if (frame.requestId !== undefined && this.#requests.reject(frame.requestId, error)) {
          return;
        }
        this.#logger.warn('server reported an error', { code: frame.code, message: frame.message });
        this.emit('error', error);
        return;
      }
      case 'welcome':
      case 'joined':
      case 'left':
      case 'sent':
      case 'history':
      case 'pong':
        if (!this.#requests.resolve(frame.requestId, frame)) {
          this.#logger.debug('ignored a reply to a request that is no longer pending', {
            type: frame.type,
            requestId: frame.requestId,
          });
        }
        return;
      case 'event':
        this.#rooms.get(frame.event.room)?.handleEvent(frame.event);
        return;
      case 'presence':
        this.#rooms.get(frame.room)?.handlePresence(frame);
        return;
      case 'members':
        this.#rooms.get(frame.room)?.handleMembers(frame);
        return;
      case 'typing':
        this.#rooms.get(frame.room)?.handleTyping(frame);
        return;
      default:
        this.#logger.debug('ignored a frame of unknown type', { type: (frame as { type: string }).type });
    }
  }

  #handleClose(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) {
      return;
    }
    detach(socket);
    this.#socket = null;
    this.#session = null;
    this.#stopSessionTimers();
    this.#logger.info('connection closed', { url: this.url, code, reason });

    this.#requests.rejectAll(new ConfabError('disconnected', `the connection closed (code ${code}) before the reply arrived`));
    for (const room of this.#rooms.values()) {
      room.handleDisconnected();
    }

    if (this.#fatalError === null && FATAL_CLOSE_CODES.has(code)) {
      this.#fatalError = new ConfabError(
        'unauthorized',
        `the server rejected the credentials (close code ${code}${reason === '' ? '' : `: ${reason}`}); connect again with new credentials`,
      );
      this.emit('error', this.#fatalError);
    }
    this.#afterConnectionEnd(code, reason);
  }

  /** Decides between reconnecting and stopping after a connection or an attempt ended. */
  #afterConnectionEnd(code: number, reason: string): void {
    const willReconnect = this.#active && this.#fatalError === null && this.#reconnect !== false;
    this.emit('disconnect', { code, reason, willReconnect });
    if (!willReconnect) {
      this.#active = false;
      this.#setState('disconnected');
      return;
    }

    this.#setState('reconnecting');
    const delayMs = this.#backoff.next();
    this.#logger.info('reconnecting', { url: this.url, delayMs, attempt: this.#backoff.attempt });
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => void this.#open(), delayMs);
  }

  /** Gives up on a socket without waiting for a close handshake that may never come. */
  #dropSocket(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) {
      return;
    }
    detach(socket);
    terminate(socket);
    // Detached, so the close event cannot arrive; the cleanup runs here instead.
    this.#handleClose(socket, code, reason);
  }

  #startHeartbeat(socket: WebSocketLike, serverIntervalMs: number): void {
    const intervalMs = this.#options.heartbeatIntervalMs ?? serverIntervalMs;
    if (!(intervalMs > 0)) {
      return;
    }
    this.#heartbeatTimer = setInterval(() => {
      if (socket !== this.#socket || Date.now() - this.#lastFrameAtMs < intervalMs) {
        return;
      }
      this.#request({ type: 'ping' }).catch((error: unknown) => {
        if (error instanceof ConfabError && error.code === 'timeout' && socket === this.#socket) {
          this.#logger.warn('the server did not answer a ping; dropping the connection', { url: this.url });
          this.#dropSocket(socket, ABNORMAL_CLOSE_CODE, 'heartbeat timed out');
        }
      });
    }, intervalMs);
  }

  #stopSessionTimers(): void {
    clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#stableTimer);
  }

  #request<F extends RequestFrame>(frame: F, onReply?: (reply: ReplyTo<F['type']>) => void): Promise<ReplyTo<F['type']>> {
    const socket = this.#socket;
    if (socket === null || this.#session === null) {
      return Promise.reject(new ConfabError('disconnected', `cannot send ${frame.type}: the client is ${this.#state}`));
    }

    const requestId = this.#requests.nextId();
    const reply = this.#requests.track(requestId, frame.type, this.#requestTimeoutMs, onReply);
    transmit(socket, { ...frame, requestId }, this.#logger);
    return reply;
  }

  #notify(frame: Omit<TypingRequestFrame, 'requestId'>): void {
    if (this.#socket !== null && this.#session !== null) {
      transmit(this.#socket, frame, this.#logger);
    }
  }

  #release(name: string): void {
    // Deferred, so that a holder that lets go and takes the room again at once (React
    // StrictMode runs every effect twice) causes neither a leave nor a second join.
    setTimeout(() => {
      const room = this.#rooms.get(name);
      if (room === undefined || room.references > 0) {
        return;
      }
      this.#rooms.delete(name);
      if (this.#session !== null && room.status !== 'failed') {
        this.#request({ type: 'leave', room: name }).catch((error: unknown) => {
          this.#logger.debug('leave failed', { room: name, error });
        });
      }
      room.dispose();
    }, 0);
  }

  #createRoomLink(settings: RoomSettings): RoomLink {
    // Getters, because the rooms read the session's values as they change.
    const client = this;
    return {
      get connected() {
        return client.#session !== null;
      },
      get user() {
        return client.#user;
      },
      get limits() {
        return client.#limits;
      },
      get epoch() {
        return client.#epoch;
      },
      settings,
      logger: this.#logger,
      request: (frame, onReply) => this.#request(frame, onReply),
      notify: (frame) => this.#notify(frame),
      release: (name) => this.#release(name),
    };
  }

  #setState(newState: ConnectionState): void {
    const oldState = this.#state;
    if (oldState === newState) {
      return;
    }
    this.#state = newState;
    this.#logger.debug('connection state changed', { oldState, newState });
    this.emit('state', { oldState, newState });
  }
}

function validateUrl(url: unknown): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new ConfabError('invalid_field', `url ${JSON.stringify(url)} is not a valid URL; use ws://host:port/ws`, {
      field: 'url',
    });
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new ConfabError('invalid_field', `url ${JSON.stringify(url)} must start with ws:// or wss://`, {
      field: 'url',
    });
  }
  return String(url);
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Returns a frame's text. Protocol v1 sends JSON in text frames only, but a binary frame holding
 * UTF-8 JSON is read too, so that a server that frames a broadcast as binary still works.
 */
function decodeFrame(data: unknown): string | null {
  if (typeof data === 'string') {
    return data;
  }
  try {
    if (data instanceof ArrayBuffer) {
      return utf8Decoder.decode(data);
    }
    if (ArrayBuffer.isView(data)) {
      return utf8Decoder.decode(data);
    }
  } catch {
    return null;
  }
  return null;
}

function validateGuestName(name: unknown): void {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  const length = countCodePoints(trimmed);
  if (length === 0 || length > MAX_DISPLAY_NAME_CODE_POINTS || hasControlCharacter(trimmed)) {
    throw new ConfabError(
      'invalid_field',
      `guestName ${JSON.stringify(name)} is invalid: use 1 to ${MAX_DISPLAY_NAME_CODE_POINTS} characters with no control characters`,
      { field: 'guestName' },
    );
  }
}

function errorFromFrame(frame: ErrorFrame): ConfabError {
  const details: { retryAfterMs?: number; field?: string } = {};
  if (frame.retryAfterMs !== undefined) {
    details.retryAfterMs = frame.retryAfterMs;
  }
  if (frame.field !== undefined) {
    details.field = frame.field;
  }
  return new ConfabError(frame.code, frame.message, details);
}

function transmit(socket: WebSocketLike, frame: object, logger: Logger): void {
  try {
    socket.send(JSON.stringify(frame));
  } catch (error) {
    // The socket is closing; its close event ends the session and requeues what was lost.
    logger.debug('sending a frame failed', { error });
  }
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  // Not null: the `ws` package throws an error event that has no listener.
  socket.onerror = () => {};
}

function closeQuietly(socket: WebSocketLike, code: number, reason: string): void {
  try {
    socket.close(code, reason);
  } catch {
    // Closing a socket that is still connecting throws in some implementations; it is being
    // abandoned either way.
  }
}

function terminate(socket: WebSocketLike): void {
  const withTerminate = socket as WebSocketLike & { terminate?: () => void };
  if (typeof withTerminate.terminate === 'function') {
    withTerminate.terminate();
    return;
  }
  closeQuietly(socket, 1000, 'dropped by the client');
}
