import { isLoopback } from './config-validation.js';

/**
 * The rule for which browser origins may open a WebSocket. A request with no Origin header (not a browser) is
 * allowed and must still authenticate. An origin equal to the server's own host is allowed, and any
 * other must be listed, unless the list contains `*`.
 *
 * A server listening on loopback also requires a loopback Host header. Without that check, a page
 * whose domain is re-pointed at 127.0.0.1 (DNS rebinding) would count as same-origin.
 */
export class OriginPolicy {
  private readonly allowed: Set<string>;
  private readonly allowAll: boolean;

  constructor(
    allowedOrigins: readonly string[],
    private readonly listensOnLoopback = false,
  ) {
    this.allowAll = allowedOrigins.includes('*');
    this.allowed = new Set(allowedOrigins.map((origin) => origin.toLowerCase().replace(/\/+$/, '')));
  }

  allows(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined || this.allowAll) {
      return true;
    }
    const normalized = origin.toLowerCase();
    if (this.allowed.has(normalized)) {
      return true;
    }
    if (host === undefined || (this.listensOnLoopback && !isLoopback(hostnameOf(host)))) {
      return false;
    }
    try {
      return new URL(normalized).host === host.toLowerCase();
    } catch {
      return false;
    }
  }
}

/** Strips the port and IPv6 brackets from a Host header value. */
function hostnameOf(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) {
    return lower.slice(1, lower.indexOf(']'));
  }
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}
