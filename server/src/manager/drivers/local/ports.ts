/** Ports for local gateways: keep an instance's port across restarts when it is free, else take a fresh one. */
import { createServer } from 'node:net';

function listenOn(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const got = typeof address === 'object' && address !== null ? address.port : null;
      server.close(() => resolve(got));
    });
  });
}

export async function isPortFree(port: number, host: string): Promise<boolean> {
  return (await listenOn(port, host)) === port;
}

/** A port that was free a moment ago (the kernel's pick). */
export async function freePort(host: string): Promise<number> {
  const port = await listenOn(0, host);
  if (port === null) throw new Error(`no free port on ${host}`);
  return port;
}

/** `preferred` when it is free, else a fresh free port. */
export async function choosePort(preferred: number | undefined, host: string): Promise<number> {
  if (preferred !== undefined && preferred > 0 && (await isPortFree(preferred, host))) return preferred;
  return freePort(host);
}
