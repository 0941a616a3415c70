/** The parts of `window.location` the gateway address is derived from. */
export interface PageLocation {
  protocol: string;
  host: string;
}

/**
 * The tRPC WebSocket of the gateway that served this page. It is derived only
 * from the page's own origin — never from a query parameter, hash or stored
 * value — so no link can send this device's signed handshake elsewhere.
 */
export function gatewaySocketUrl(location: PageLocation): string {
  if (location.protocol !== 'http:' && location.protocol !== 'https:') {
    throw new Error(`WebChat must be served over http(s), not ${location.protocol}`);
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/trpc`;
}
