/**
 * Opens a payment page (Stripe Checkout for a top-up or a plan) in the
 * user's own browser: the app window never navigates away, and the card is
 * typed where the browser shows the payment site's address. main.ts passes
 * Electron's `shell.openExternal`; tests pass a double.
 */
import { AppError } from '@autoclaw/shared';

/** https anywhere, or http on this machine (a one-machine manager or a local payment server); never credentials in the URL. */
export function isCheckoutUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username !== '' || parsed.password !== '') return false;
  if (parsed.protocol === 'https:') return true;
  return parsed.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
}

export interface CheckoutOpener {
  /** Resolves once the system browser was asked to show `url`; BAD_REQUEST for any other kind of URL. */
  open(url: string): Promise<void>;
}

export function createCheckoutOpener(deps: { openExternal: (url: string) => Promise<void> }): CheckoutOpener {
  return {
    async open(url) {
      if (!isCheckoutUrl(url)) throw new AppError('BAD_REQUEST', 'not a payment page this app opens (https only, or http on this machine)');
      try {
        await deps.openExternal(url);
      } catch {
        throw new AppError('INTERNAL', 'could not open the payment page in your browser');
      }
    },
  };
}
