import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { CLOSE_CODES, PROTOCOL_VERSION, WEBSOCKET_PATH, type ServerFrame } from '@confab/protocol';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';

import { Authenticator } from './authenticator.js';
import { guestsAllowed, resolveConfig, type ServerConfig } from './config.js';
import { isLoopback, validateConfig } from './config-validation.js';
import { Connection } from './connection.js';
import type { ConnectionContext } from './connection-context.js';
import { Heartbeat } from './heartbeat.js';
import { createLogger } from './logger.js';
import { OriginPolicy } from './origin-policy.js';
import { RoomHub } from './room-hub.js';
import { ServerMetrics } from './server-metrics.js';
import { createServices, type ServerServices } from './services.js';
import { StaticFiles } from './static-files.js';
import { UserConnections } from './user-connections.js';

/** How often shutdown checks whether every socket has closed, in milliseconds. */
const CONNECTION_CLOSE_POLL_MS = 20;
/** How long `/readyz` waits for the store before reporting not ready, in milliseconds. */
const READINESS_TIMEOUT_MS = 2000;

/** A running Confab server. */
export class ConfabServer {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly services: ServerServices;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly context: ConnectionContext;
  private readonly heartbeat: Heartbeat;
  private readonly originPolicy: OriginPolicy;
  private readonly staticFiles: StaticFiles | undefined;
  readonly metrics: ServerMetrics;
  private closing: Promise<void> | undefined;

  constructor(config: ServerConfig, logger: Logger, services: ServerServices, now: () => number) {
    this.config = config;
    this.logger = logger;
    this.services = services;
    this.originPolicy = new OriginPolicy(config.allowedOrigins, isLoopback(config.host));
    this.staticFiles = config.webRoot === undefined ? undefined : new StaticFiles(config.webRoot);

    const hub = new RoomHub(services.broker, logger.child({ component: 'room-hub' }), (count) =>
      this.metrics.deliveries.inc(count),
    );
    this.metrics = new ServerMetrics({
      connections: () => this.connections.size,
      rooms: () => hub.roomCount,
      subscriptions: () => hub.subscriptionCount,
    });
    services.store.onBatchCommitted = (size, durationMs) => {
      this.metrics.storeBatchSize.observe(size);
      this.metrics.storeWrite.observe(durationMs / 1000);
    };
    this.heartbeat = new Heartbeat(config.pingIntervalMs, config.pingTimeoutMs);
    const { metrics } = this;
    this.context = {
      config,
      services,
      hub,
      authenticator: new Authenticator({
        jwtSecret: config.jwtSecret,
        jwtPublicKey: config.jwtPublicKey,
        jwtIssuer: config.jwtIssuer,
        jwtAudience: config.jwtAudience,
        allowGuests: guestsAllowed(config),
      }),
      userConnections: new UserConnections(),
      logger,
      metrics,
      heartbeat: this.heartbeat,
      peerObserver: {
        droppedFrame: (kind) => metrics.droppedEphemeral.inc({ kind }),
        closedSlowConsumer: () => metrics.slowConsumerCloses.inc(),
      },
      connectionClosed: (connection) => this.connections.delete(connection),
      track: (work) => this.track(work),
      now,
    };

    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.maxFrameBytes,
      perMessageDeflate: false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(PROTOCOL_VERSION) ? PROTOCOL_VERSION : false),
    });
    this.http = createServer((request, response) => void this.handleRequest(request, response));
    this.http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.handleUpgrade(request, socket, head),
    );
  }

  /** The WebSocket endpoint, for example `ws://127.0.0.1:8080/ws`. */
  get url(): string {
    return `ws://${this.hostForUrl}:${this.port}${WEBSOCKET_PATH}`;
  }

  get httpUrl(): string {
    return `http://${this.hostForUrl}:${this.port}`;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Opens the services and starts listening. */
  async listen(): Promise<void> {
    const { services } = this;
    const { hub } = this.context;
    await services.store.open();
    await services.broker.start((_room, message) => {
      this.metrics.brokerReceived.inc();
      hub.deliver(message.event);
    });
    await services.presence.start((change) => {
      const frame: ServerFrame = { type: 'presence', room: change.room, action: change.action, user: change.user };
      hub.broadcast(change.room, frame, 'presence');
    });
    await services.typing.start((change) => {
      const frame: ServerFrame = { type: 'typing', room: change.room, user: change.user, typing: change.typing };
      hub.broadcast(change.room, frame, 'typing', change.user.id);
    });

    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.config.port, this.config.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.logger.info({ url: this.url, web: this.httpUrl, epoch: services.store.epoch }, 'server listening');
  }

  /**
   * Shuts down gracefully: stops accepting connections, waits for store writes under way, closes
   * every client with 1012 (reconnect and resume), then closes the services. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.logger.info({ connections: this.connections.size }, 'shutting down');
    const httpClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));

    await this.waitForInFlight();
    for (const connection of this.connections) {
      connection.close(CLOSE_CODES.serviceRestart, 'server restarting; reconnect and resume');
    }
    await this.waitForConnectionsClosed();
    this.http.closeAllConnections();
    this.heartbeat.stop();

    const { services } = this;
    await services.typing.close();
    await services.presence.close();
    await services.broker.close();
    await services.rateLimiter.close();
    await services.store.close();
    await httpClosed;
    this.logger.info('server stopped');
  }

  private async waitForInFlight(): Promise<void> {
    if (this.inFlight.size === 0) {
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.config.shutdownTimeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), timeout]);
    clearTimeout(timer);
  }

  /**
   * Waits until every socket has closed, so that each close is handled and logged before the
   * services stop. A peer that does not finish the close handshake is destroyed after about a
   * second, so the wait is bounded by that and by the shutdown timeout.
   */
  private async waitForConnectionsClosed(): Promise<void> {
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    while (this.connections.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, CONNECTION_CLOSE_POLL_MS));
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = (): void => {
      this.inFlight.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  private get hostForUrl(): string {
    const { host } = this.config;
    if (host === '0.0.0.0' || host === '::') {
      return '127.0.0.1';
    }
    return host.includes(':') ? `[${host}]` : host;
  }

  private handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (error) => this.logger.debug({ err: error }, 'socket error during upgrade'));

    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (pathname !== WEBSOCKET_PATH) {
      rejectUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (this.closing !== undefined) {
      rejectUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    if (!offersProtocol(request.headers['sec-websocket-protocol'])) {
      rejectUpgrade(socket, 400, 'Bad Request');
      return;
    }
    const origin = request.headers.origin;
    if (!this.originPolicy.allows(origin, request.headers.host)) {
      this.logger.warn({ origin }, 'rejected WebSocket upgrade from a foreign origin');
      rejectUpgrade(socket, 403, 'Forbidden');
      return;
    }

    // Only the address is kept: a closure that used `request` would hold it for the socket's life.
    const remoteAddress = request.socket.remoteAddress;
    this.wss.handleUpgrade(request, socket, head, (ws: WebSocket) => this.accept(ws, socket, remoteAddress));
  }

  private accept(ws: WebSocket, socket: Duplex, remoteAddress: string | undefined): void {
    const connection = new Connection(ws, socket, this.context, remoteAddress);
    this.connections.add(connection);
  }

  private async handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    try {
      if (pathname === '/healthz') {
        sendJson(response, 200, { status: 'ok' });
        return;
      }
      if (pathname === '/readyz') {
        await this.handleReadiness(response);
        return;
      }
      if (pathname === '/metrics') {
        response.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        response.end(await this.metrics.registry.metrics());
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        sendJson(response, 405, { error: 'method not allowed' });
        return;
      }
      if (pathname === WEBSOCKET_PATH) {
        sendJson(response, 426, { error: `upgrade to a WebSocket with subprotocol ${PROTOCOL_VERSION}` });
        return;
      }
      if (this.staticFiles !== undefined) {
        await this.staticFiles.serve(request, response, pathname);
        return;
      }
      this.sendLandingPage(response, pathname);
    } catch (error) {
      this.logger.error({ err: error, path: pathname }, 'HTTP request failed');
      if (!response.headersSent) {
        sendJson(response, 500, { error: 'internal server error' });
      } else {
        response.destroy();
      }
    }
  }

  private async handleReadiness(response: ServerResponse): Promise<void> {
    if (this.closing !== undefined) {
      sendJson(response, 503, { status: 'shutting down' });
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.services.store.check(),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('store check timed out')), READINESS_TIMEOUT_MS);
        }),
      ]);
      sendJson(response, 200, { status: 'ready' });
    } catch (error) {
      this.logger.warn({ err: error }, 'readiness check failed');
      sendJson(response, 503, { status: 'not ready', reason: 'message store unreachable' });
    } finally {
      clearTimeout(timer);
    }
  }

  private sendLandingPage(response: ServerResponse, pathname: string): void {
    if (pathname !== '/') {
      sendJson(response, 404, { error: 'not found' });
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(
      `Confab chat server\n\nWebSocket endpoint: ${this.url} (subprotocol ${PROTOCOL_VERSION})\n` +
        'The web UI is not built; run `npm start` from the repository root to build and serve it.\n',
    );
  }
}

/**
 * Starts a Confab server. Settings left out of `overrides` take their defaults; services left out
 * of `serviceOverrides` are chosen from the settings.
 */
export async function startServer(
  overrides: Partial<ServerConfig> = {},
  serviceOverrides: Partial<ServerServices> & { now?: () => number } = {},
): Promise<ConfabServer> {
  const config = resolveConfig(overrides);
  validateConfig(config);
  const logger = createLogger(config);
  const { now = Date.now, ...parts } = serviceOverrides;
  const services = await createServices(config, logger, parts);
  const server = new ConfabServer(config, logger, services, now);
  try {
    await server.listen();
  } catch (error) {
    await server.close().catch(() => {});
    throw error;
  }
  return server;
}

/** Returns whether the client offers protocol v1 in its Sec-WebSocket-Protocol header. */
function offersProtocol(header: string | undefined): boolean {
  return header !== undefined && header.split(',').some((protocol) => protocol.trim() === PROTOCOL_VERSION);
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(`${JSON.stringify(body)}\n`);
}
