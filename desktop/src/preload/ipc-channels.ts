/**
 * IPC channel names shared by the preload and main (plain constants, no
 * runtime imports, so both bundles can take them). One channel per capability.
 */
import type { DeepLink, DesktopUpdateState } from './api';

export const IPC_CHANNELS = {
  getAppInfo: 'autoclaw:get-app-info',
  getDeviceIdentity: 'autoclaw:get-device-identity',
  signChallenge: 'autoclaw:sign-challenge',
  notifyAnswer: 'autoclaw:notify-answer',
  notifyNotice: 'autoclaw:notify-notice',
  setUnreadCount: 'autoclaw:set-unread-count',
  getTailscaleStatus: 'autoclaw:get-tailscale-status',
  openCheckout: 'autoclaw:open-checkout',
  updateState: 'autoclaw:update-state',
  updateCheck: 'autoclaw:update-check',
  updateDownload: 'autoclaw:update-download',
  updateRestart: 'autoclaw:update-restart',
  /** Renderer → main: "I am listening"; returns the events queued until now. */
  takeEvents: 'autoclaw:take-events',
} as const;

/** Main → renderer pushes (webContents.send). */
export const EVENT_CHANNEL = 'autoclaw:event';

export type InvokeChannel = (typeof IPC_CHANNELS)[keyof typeof IPC_CHANNELS];

/** What every invoke handler resolves to: codes survive IPC, which keeps only an Error's message. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

/** Pushed on EVENT_CHANNEL, or returned by takeEvents. */
export type RendererEvent =
  | { type: 'deep-link'; link: DeepLink }
  | { type: 'sign-out' }
  | { type: 'update-state'; state: DesktopUpdateState };
