/**
 * The manager UI's Content-Security-Policy: the gateway's strict policy,
 * except that the page may also connect to the users' gateways — on
 * loopback (the local driver) or on the Tailnet (Tailscale Serve names) —
 * because after sign-in the same page pairs with and chats to the user's
 * instance. Scripts, styles, frames and forms stay locked to the manager.
 */
export const GATEWAY_CONNECT_SOURCES: readonly string[] = [
  'http://127.0.0.1:*',
  'ws://127.0.0.1:*',
  'http://localhost:*',
  'ws://localhost:*',
  'https://*.ts.net',
  'wss://*.ts.net',
];

export const MANAGER_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  ['connect-src', "'self'", ...GATEWAY_CONNECT_SOURCES].join(' '),
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');
