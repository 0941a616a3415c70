/**
 * The main-process side of the preload's capabilities: one ipcMain.handle per
 * named function. Every call is checked twice before it reaches a service —
 * the sender must be the app's own page (top frame on app://autoclaw), and
 * the arguments must match a strict zod schema — and answers with an
 * IpcResult, so the AppError code survives IPC (which keeps only messages).
 */
import type { IpcMain } from 'electron';
import { z } from 'zod';
import { AppError, Id } from '@autoclaw/shared';
import type { AppInfo, DesktopUpdateState, DeviceIdentityInfo, GatewayNotice, NotifyOutcome, SignChallengeResult, TailscaleStatusInfo } from '../preload/api';
import { IPC_CHANNELS, type IpcResult, type RendererEvent } from '../preload/ipc-channels';
import type { DeviceKeyStore, LogFn } from './device-key-store';
import { isAppUrl } from './window-service';

/** The parts of Electron's IpcMainInvokeEvent we read. */
export interface InvokeEventPort {
  readonly senderFrame: { readonly url: string; readonly parent: unknown } | null;
}

/** The parts of Electron's ipcMain we use. */
export interface IpcMainPort extends Pick<IpcMain, 'removeHandler'> {
  handle(channel: string, listener: (event: InvokeEventPort, ...args: unknown[]) => unknown): void;
}

export interface IpcApiServices {
  appInfo: AppInfo;
  deviceKeys: DeviceKeyStore;
  notifications: { notifyAnswer(notice: z.infer<typeof AnswerNoticeSchema>): NotifyOutcome; notifyNotice(notice: GatewayNotice): NotifyOutcome };
  unread: { setUnreadCount(count: number): void };
  events: { take(): RendererEvent[] };
  tailscale: { status(): Promise<TailscaleStatusInfo> };
  /** Payment pages in the system browser (checkout-opener.ts); absent: NOT_CONFIGURED. */
  checkout?: { open(url: string): Promise<void> };
  /** The app's self-update (self-update.ts), or null when no feed is configured. */
  selfUpdate: SelfUpdateService | null;
}

/** What the page may ask of the self-update. */
export interface SelfUpdateService {
  state(): DesktopUpdateState;
  check(): Promise<DesktopUpdateState>;
  download(): Promise<DesktopUpdateState>;
  restart(): boolean;
}

export interface IpcApiOptions {
  ipcMain: IpcMainPort;
  services: IpcApiServices;
  log: LogFn;
  /** Which page may call; the app's own origin unless a test says otherwise. */
  isTrustedUrl?: (url: string) => boolean;
}

export const SignChallengeSchema = z
  .object({
    nonce: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/, 'not a gateway nonce'),
    timestamp: z.number().int().min(0).max(8.64e15),
  })
  .strict();

export const AnswerNoticeSchema = z
  .object({
    sessionId: Id,
    title: z.string().max(500),
    preview: z.string().max(20_000),
  })
  .strict();

export const GatewayNoticeSchema = z
  .object({
    title: z.string().min(1).max(500),
    body: z.string().max(5_000),
    level: z.enum(['info', 'warning', 'error']),
  })
  .strict();

export const UnreadCountSchema = z.number().int().min(0).max(1_000_000);

const NoArgs = z.tuple([]);

const Text = z.string().min(1).max(500);
/** What may reach the page about this machine's Tailscale: the documented fields, an https login link, nothing else. */
export const TailscaleStatusSchema = z
  .object({
    state: z.enum(['not-installed', 'not-running', 'stopped', 'needs-login', 'needs-approval', 'starting', 'running', 'error']),
    tailnet: Text.optional(),
    deviceName: Text.optional(),
    authUrl: z.url({ protocol: /^https$/ }).max(2_000).optional(),
    guidance: z.string().min(1).max(1_000),
  })
  .strict();

type Handler<T> = (args: unknown[]) => Promise<T> | T;

/** Registers every capability; returns a function that removes them again. */
export function registerIpcApi(options: IpcApiOptions): () => void {
  const { ipcMain, services, log } = options;
  const trusted = options.isTrustedUrl ?? isAppUrl;
  const channels: string[] = [];

  function parse<S extends z.ZodType>(schema: S, args: unknown[]): z.infer<S> {
    const parsed = schema.safeParse(args);
    if (!parsed.success) {
      // Name the offending paths, never echo the values.
      const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(arguments)').join(', ');
      throw new AppError('BAD_REQUEST', `invalid arguments: ${where}`);
    }
    return parsed.data;
  }

  function handle<T>(channel: string, handler: Handler<T>): void {
    channels.push(channel);
    ipcMain.handle(channel, async (event, ...args): Promise<IpcResult<T>> => {
      try {
        const frame = event.senderFrame;
        if (frame === null || frame.parent !== null || !trusted(frame.url)) {
          log('warn', `ipc: refused ${channel} from an untrusted frame`);
          throw new AppError('FORBIDDEN', 'this page may not use the desktop bridge');
        }
        return { ok: true, value: await handler(args) };
      } catch (error) {
        if (AppError.is(error)) return { ok: false, code: error.code, message: error.message };
        log('error', `ipc: ${channel} failed: ${error instanceof Error ? error.message : 'unknown error'}`);
        return { ok: false, code: 'INTERNAL', message: 'internal error in the desktop app' };
      }
    });
  }

  handle<AppInfo>(IPC_CHANNELS.getAppInfo, (args) => {
    parse(NoArgs, args);
    return services.appInfo;
  });
  handle<DeviceIdentityInfo>(IPC_CHANNELS.getDeviceIdentity, (args) => {
    parse(NoArgs, args);
    return services.deviceKeys.identity();
  });
  handle<SignChallengeResult>(IPC_CHANNELS.signChallenge, (args) => {
    const [request] = parse(z.tuple([SignChallengeSchema]), args);
    return services.deviceKeys.signChallenge(request);
  });
  handle<NotifyOutcome>(IPC_CHANNELS.notifyAnswer, (args) => {
    const [notice] = parse(z.tuple([AnswerNoticeSchema]), args);
    return services.notifications.notifyAnswer(notice);
  });
  handle<NotifyOutcome>(IPC_CHANNELS.notifyNotice, (args) => {
    const [notice] = parse(z.tuple([GatewayNoticeSchema]), args);
    return services.notifications.notifyNotice(notice);
  });
  handle<null>(IPC_CHANNELS.setUnreadCount, (args) => {
    const [count] = parse(z.tuple([UnreadCountSchema]), args);
    services.unread.setUnreadCount(count);
    return null;
  });
  handle<TailscaleStatusInfo>(IPC_CHANNELS.getTailscaleStatus, async (args) => {
    parse(NoArgs, args);
    const status = TailscaleStatusSchema.safeParse(await services.tailscale.status());
    if (!status.success) throw new AppError('INTERNAL', 'Tailscale answered with a status this app does not understand');
    return status.data;
  });
  handle<null>(IPC_CHANNELS.openCheckout, async (args) => {
    const [url] = parse(z.tuple([z.string().min(1).max(4_000)]), args);
    if (!services.checkout) throw new AppError('NOT_CONFIGURED', 'this app cannot open payment pages');
    await services.checkout.open(url);
    return null;
  });
  const OFF: DesktopUpdateState = { kind: 'off' };
  const updates = services.selfUpdate;
  handle<DesktopUpdateState>(IPC_CHANNELS.updateState, (args) => {
    parse(NoArgs, args);
    return updates?.state() ?? OFF;
  });
  handle<DesktopUpdateState>(IPC_CHANNELS.updateCheck, (args) => {
    parse(NoArgs, args);
    return updates?.check() ?? OFF;
  });
  handle<DesktopUpdateState>(IPC_CHANNELS.updateDownload, (args) => {
    parse(NoArgs, args);
    return updates?.download() ?? OFF;
  });
  handle<boolean>(IPC_CHANNELS.updateRestart, (args) => {
    parse(NoArgs, args);
    return updates?.restart() ?? false;
  });
  handle<RendererEvent[]>(IPC_CHANNELS.takeEvents, (args) => {
    parse(NoArgs, args);
    return services.events.take();
  });

  return () => {
    for (const channel of channels) ipcMain.removeHandler(channel);
  };
}
