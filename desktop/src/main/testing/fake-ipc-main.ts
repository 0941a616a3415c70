/** Test support: Electron's ipcMain, calling handlers as a page's frame would. */
import type { IpcResult } from '../../preload/ipc-channels';
import type { InvokeEventPort, IpcMainPort } from '../ipc-api';

type Listener = (event: InvokeEventPort, ...args: unknown[]) => unknown;

export class FakeIpcMain implements IpcMainPort {
  readonly handlers = new Map<string, Listener>();
  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** Calls a channel as a frame at `url` would (parent null = top frame). */
  async invoke(channel: string, frame: InvokeEventPort['senderFrame'], ...args: unknown[]): Promise<IpcResult<unknown>> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`no handler for ${channel}`);
    return (await handler({ senderFrame: frame }, ...args)) as IpcResult<unknown>;
  }
}
