/**
 * Which browser origins may open a WebSocket. A request with no Origin header (not a browser) is
 * allowed and must still authenticate; an origin equal to the server's own host is allowed; any
 * other must be listed, unless the list contains `*`.
 */
export class OriginPolicy {
  private readonly allowed: Set<string>;
  private readonly allowAll: boolean;

  constructor(allowedOrigins: readonly string[]) {
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
    try {
      return host !== undefined && new URL(normalized).host === host.toLowerCase();
    } catch {
      return false;
    }
  }
}
