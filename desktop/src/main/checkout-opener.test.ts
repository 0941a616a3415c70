import { describe, expect, it } from 'vitest';
import { AppError } from '@autoclaw/shared';
import { createCheckoutOpener, isCheckoutUrl } from './checkout-opener';

describe('the checkout opener (payment pages in the system browser)', () => {
  it('opens https pages and http ones on this machine, nothing else', async () => {
    const opened: string[] = [];
    const opener = createCheckoutOpener({ openExternal: async (url) => void opened.push(url) });
    await opener.open('https://checkout.stripe.example/c/pay/cs_test_1');
    await opener.open('http://127.0.0.1:4242/checkout/cs_test_2');
    for (const bad of ['http://evil.example/pay', 'javascript:alert(1)', 'file:///etc/passwd', 'https://user:pw@pay.example/', 'app://autoclaw/', 'not a url', '']) {
      expect(isCheckoutUrl(bad)).toBe(false);
      await expect(opener.open(bad)).rejects.toSatisfy((e: unknown) => AppError.is(e, 'BAD_REQUEST'));
    }
    expect(opened).toEqual(['https://checkout.stripe.example/c/pay/cs_test_1', 'http://127.0.0.1:4242/checkout/cs_test_2']);
  });

  it('a browser that cannot be opened is a typed error', async () => {
    const opener = createCheckoutOpener({ openExternal: () => Promise.reject(new Error('no handler for https')) });
    await expect(opener.open('https://pay.example/x')).rejects.toSatisfy((e: unknown) => AppError.is(e, 'INTERNAL'));
  });
});
