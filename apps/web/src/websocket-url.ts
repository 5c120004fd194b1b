/**
 * Returns the URL of the Confab WebSocket endpoint on the origin that served the page, so the UI
 * works behind whatever host, port and TLS the server is reached through.
 */
export function websocketUrl(location: Pick<Location, 'protocol' | 'host'>): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}
