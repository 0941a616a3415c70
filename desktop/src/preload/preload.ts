/**
 * The preload (sandboxed, CommonJS bundle): exposes `window.autoclaw`, a list
 * of named capabilities built by bridge-api.ts, and nothing else. ipcRenderer
 * itself never reaches the page.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createBridgeApi } from './bridge-api';
import { EVENT_CHANNEL } from './ipc-channels';

contextBridge.exposeInMainWorld(
  'autoclaw',
  createBridgeApi({
    invoke: (channel, ...args) => ipcRenderer.invoke(channel, ...args),
    // Only the payload is passed on: the IpcRendererEvent (with its sender) stays here.
    onPush: (listener) => void ipcRenderer.on(EVENT_CHANNEL, (_event, payload: unknown) => listener(payload)),
    platform: process.platform,
  }),
);
