/**
 * The desktop bridge: what the preload exposes to the renderer as
 * `window.autoclaw` (types only — this file has no runtime code, so the DOM
 * renderer, the preload and main can all import it). Every member is one
 * named capability; there is no generic channel to main.
 *
 * Errors: a rejected promise carries an Error whose message starts with an
 * AppError code from @autoclaw/shared, e.g. `BAD_REQUEST: nonce: ...`.
 */

/** This device's Ed25519 identity; the private key stays in the main process. */
export interface DeviceIdentityInfo {
  /** First 22 chars of base64url(SHA-256(raw public key)), as the gateway derives it. */
  readonly deviceId: string;
  /** base64url raw 32-byte Ed25519 public key. */
  readonly publicKey: string;
  /**
   * Where the private key is kept: `keychain` (OS keychain through safeStorage),
   * `plaintext` (Linux without a keyring, stored after the user agreed), or
   * `memory` (not stored: the user refused or encryption is unavailable; this
   * device must pair again after a restart).
   */
  readonly storage: 'keychain' | 'plaintext' | 'memory';
}

/** What main signs: authPayload(nonce, deviceId, timestamp) from @autoclaw/shared, nothing else. */
export interface SignChallengeRequest {
  /** The gateway's single-use nonce (base64url). */
  readonly nonce: string;
  /** ms since epoch; main refuses one further than AUTH_MAX_SKEW_MS from its clock. */
  readonly timestamp: number;
}

export interface SignChallengeResult {
  readonly deviceId: string;
  /** base64url Ed25519 signature of authPayload(nonce, deviceId, timestamp). */
  readonly signature: string;
}

/** An assistant answer finished; main decides whether to show a native notification. */
export interface AnswerNotice {
  readonly sessionId: string;
  /** The session's title (shown as the notification title). */
  readonly title: string;
  /** Plain text; main shortens it. */
  readonly preview: string;
}

/** A notice from the gateway (budget line crossed, channel down, …); main shows it natively when the window is away. */
export interface GatewayNotice {
  readonly title: string;
  readonly body: string;
  readonly level: 'info' | 'warning' | 'error';
}

/**
 * `shown`: a native notification was shown and the unread count went up;
 * `unread`: no notification (do not disturb, or unsupported) but the count went up;
 * `focused`: the window is visible and focused, nothing happened.
 */
export type NotifyOutcome = 'shown' | 'unread' | 'focused';

/** A validated `autoclaw://` link. A link never carries a gateway or manager URL. */
export type DeepLink =
  | {
      readonly kind: 'pair';
      /** One-time pairing code `ABCD-EFGH`, or null when the link carries a ticket. */
      readonly code: string | null;
      /** A manager-signed pairing ticket (`payload.signature`, base64url), or null. */
      readonly ticket: string | null;
      readonly instanceId: string | null;
    }
  | { readonly kind: 'open'; readonly sessionId: string };

export type DesktopPlatform = 'darwin' | 'win32' | 'linux' | 'other';

export interface AppInfo {
  /** The desktop app's version. */
  readonly version: string;
  /** The manager this app was configured with (--manager-url / AUTOCLAW_MANAGER_URL), or null: ask the user. */
  readonly managerUrl: string | null;
}

/** Where this machine stands with Tailscale (the private network instances are reached over). */
export type TailscaleState = 'not-installed' | 'not-running' | 'stopped' | 'needs-login' | 'needs-approval' | 'starting' | 'running' | 'error';

/** This machine's Tailscale, as main reads it from the local tailscaled (its LocalAPI). */
export interface TailscaleStatusInfo {
  readonly state: TailscaleState;
  /** The tailnet's name when known (e.g. `example.com` or `alice@gmail.com`). */
  readonly tailnet?: string;
  /** This device's MagicDNS name when running. */
  readonly deviceName?: string;
  /** An https link that signs this device in, while Tailscale needs a login. */
  readonly authUrl?: string;
  /** One or two sentences for the user: what is wrong and how to join the tailnet. */
  readonly guidance: string;
}

/**
 * The desktop app updating itself (electron-updater, generic feed): `off`
 * when no feed is configured (--update-feed / AUTOCLAW_UPDATE_FEED_URL).
 */
export type DesktopUpdateState =
  | { readonly kind: 'off' }
  | { readonly kind: 'idle' | 'checking' | 'up-to-date'; readonly currentVersion: string }
  | { readonly kind: 'available' | 'ready'; readonly currentVersion: string; readonly version: string }
  | {
      readonly kind: 'downloading';
      readonly currentVersion: string;
      readonly version: string;
      readonly percent: number;
      readonly transferred: number;
      readonly total: number;
    }
  | { readonly kind: 'error'; readonly currentVersion: string; readonly message: string; readonly version?: string };

export interface AutoClawDesktopApi {
  getAppInfo(): Promise<AppInfo>;
  getDeviceIdentity(): Promise<DeviceIdentityInfo>;
  signChallenge(request: SignChallengeRequest): Promise<SignChallengeResult>;
  notifyAnswer(notice: AnswerNotice): Promise<NotifyOutcome>;
  /** A gateway notice; `focused` when the window is in front (the page shows it itself). */
  notifyNotice(notice: GatewayNotice): Promise<NotifyOutcome>;
  /** Sets the tray/dock unread count (0 clears it); main also clears it when the window gets focus. */
  setUnreadCount(count: number): Promise<void>;
  /** Deep links (and notification clicks, as `open` links). Links that arrived before subscribing are delivered once. Returns unsubscribe. */
  onDeepLink(listener: (link: DeepLink) => void): () => void;
  /** The tray's "Sign out" item. Returns unsubscribe. */
  onSignOutRequest(listener: () => void): () => void;
  /** Whether this device is on the tailnet; when not, show `guidance` (and `authUrl`) so the user can join. */
  getTailscaleStatus(): Promise<TailscaleStatusInfo>;
  /** Opens a payment page (Stripe Checkout) in the user's browser; https, or http on this machine. */
  openCheckout(url: string): Promise<void>;
  /** Where the app's own update stands. */
  getUpdateState(): Promise<DesktopUpdateState>;
  /** Asks the feed for a newer version (resolves with the state after the check). */
  checkForUpdates(): Promise<DesktopUpdateState>;
  /** Downloads the version the last check found (progress arrives through onUpdateState). */
  downloadUpdate(): Promise<DesktopUpdateState>;
  /** Once downloaded: relaunches and quits, installing it; false when nothing is ready. */
  restartToUpdate(): Promise<boolean>;
  /** Every change of the update's state (download progress included). Returns unsubscribe. */
  onUpdateState(listener: (state: DesktopUpdateState) => void): () => void;
  readonly platform: DesktopPlatform;
}

declare global {
  interface Window {
    /** Present only inside the desktop app; undefined in a plain browser. */
    readonly autoclaw?: AutoClawDesktopApi;
  }
}
