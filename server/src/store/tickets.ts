/** Redeemed pairing tickets: each ticket id (jti) is good once. */
import { AppError } from '@autoclaw/shared';
import type { StoreContext } from './context';
import type { Store } from './types';
import { checkTime } from './validate';

export type TicketQueries = Pick<Store, 'useTicket'>;

const JTI_RE = /^[A-Za-z0-9_-]{16,64}$/;

export function ticketQueries({ db, now }: StoreContext, insertDevice: Store['insertDevice'], getDevice: Store['getDevice']): TicketQueries {
  const insert = db.prepare<[string, number, number]>('INSERT OR IGNORE INTO used_tickets (jti, expires_at, used_at) VALUES (?, ?, ?)');
  const dropExpired = db.prepare<[number]>('DELETE FROM used_tickets WHERE expires_at <= ?');

  const use = db.transaction((jti: string, expiresAt: number, device: Parameters<Store['useTicket']>[2]): boolean => {
    const at = now();
    if (insert.run(jti, expiresAt, at).changes === 0) return false;
    // Housekeeping: an expired ticket is refused by its expiry anyway.
    dropExpired.run(at);
    // insertDevice's own transaction nests as a savepoint: both rows or neither.
    if (device && !getDevice(device.id)) insertDevice(device);
    return true;
  });

  return {
    useTicket(jti, expiresAt, device) {
      if (typeof jti !== 'string' || !JTI_RE.test(jti)) throw new AppError('BAD_REQUEST', 'a ticket id is 16–64 characters of A–Z, a–z, 0–9, _ and -');
      return use.immediate(jti, checkTime(expiresAt, 'expiresAt'), device);
    },
  };
}
