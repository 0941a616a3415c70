/** Where the tRPC WebSocket is served. */
export const WS_PATH = '/trpc';
