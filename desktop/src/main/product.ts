/** Names the packaged app is known by; electron-builder.yml must agree (its test checks). */
export const PRODUCT = {
  name: 'AutoClaw',
  /** Also the Windows AppUserModelID, which notifications need to match the installer's shortcut. */
  appId: 'app.autoclaw.desktop',
} as const;
