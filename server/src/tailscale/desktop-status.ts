/**
 * What the desktop app shows about this machine's Tailscale: read through the
 * same LocalAPI, turned into one state plus a sentence telling the user what
 * to do. Plain data, no Electron: the app's main process calls it and hands
 * the result to the renderer.
 */
import { AppError } from '@autoclaw/shared';
import { createLocalApiClient, type LocalApiClient } from './localapi-client';
import { resolveLocalApiTransport, type ResolveTransportOptions } from './localapi-transport';

export type DesktopTailscaleState = 'not-installed' | 'not-running' | 'stopped' | 'needs-login' | 'needs-approval' | 'starting' | 'running' | 'error';

export interface DesktopTailscaleStatus {
  state: DesktopTailscaleState;
  /** The tailnet's name when running (e.g. `example.com` or `alice@gmail.com`). */
  tailnet?: string;
  /** This device's MagicDNS name when running. */
  deviceName?: string;
  /** The login URL the daemon offers while it needs a login. */
  authUrl?: string;
  /** One or two sentences for the user. */
  guidance: string;
}

const INSTALL = 'Install Tailscale from https://tailscale.com/download, sign in with the account that owns your AutoClaw instance, then come back.';

/** Maps what tailscaled says (or why it could not be asked) to the user-facing state. */
export async function readDesktopTailscaleStatus(
  opts: { localapi?: Pick<LocalApiClient, 'status'> } & ResolveTransportOptions = {},
): Promise<DesktopTailscaleStatus> {
  const localapi = opts.localapi ?? createLocalApiClient({ transport: resolveLocalApiTransport(opts), timeoutMs: 3_000 });
  let status;
  try {
    status = await localapi.status();
  } catch (err) {
    if (AppError.is(err, 'NOT_CONFIGURED')) {
      if (err.details?.reason === 'socket-missing') return { state: 'not-installed', guidance: `Tailscale is not installed or not running on this device. ${INSTALL}` };
      return { state: 'not-running', guidance: 'Tailscale is installed but its service is not running. Open the Tailscale app (or start tailscaled) and sign in.' };
    }
    if (AppError.is(err, 'FORBIDDEN')) {
      return { state: 'error', guidance: 'This app is not allowed to talk to Tailscale on this device. On Linux, run "sudo tailscale set --operator=$USER" once.' };
    }
    return { state: 'error', guidance: `Could not read Tailscale's status (${err instanceof Error ? err.message : String(err)}).` };
  }
  const tailnet = status.CurrentTailnet?.Name;
  const deviceName = status.Self?.DNSName?.replace(/\.$/, '') || undefined;
  switch (status.BackendState) {
    case 'Running':
      return {
        state: 'running',
        ...(tailnet ? { tailnet } : {}),
        ...(deviceName ? { deviceName } : {}),
        guidance: tailnet ? `This device is on the tailnet ${tailnet}.` : 'This device is on its tailnet.',
      };
    case 'NeedsLogin':
    case 'NoState':
      return {
        state: 'needs-login',
        ...(status.AuthURL ? { authUrl: status.AuthURL } : {}),
        guidance: status.AuthURL
          ? 'Tailscale needs you to sign in: open the link and use the account that owns your AutoClaw instance.'
          : 'Tailscale is not signed in. Open Tailscale and sign in with the account that owns your AutoClaw instance.',
      };
    case 'NeedsMachineAuth':
      return { state: 'needs-approval', ...(tailnet ? { tailnet } : {}), guidance: 'This device is waiting for a tailnet admin to approve it in the Tailscale admin console.' };
    case 'Stopped':
      return { state: 'stopped', ...(tailnet ? { tailnet } : {}), guidance: 'Tailscale is disconnected. Turn it on (tailscale up, or the Connect switch in the app) to reach your instance.' };
    case 'Starting':
      return { state: 'starting', ...(tailnet ? { tailnet } : {}), guidance: 'Tailscale is connecting…' };
    default:
      return { state: 'error', guidance: `Tailscale reports an unknown state (${status.BackendState}).` };
  }
}
