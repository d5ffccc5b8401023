import { HourlyTokens } from './hourlyTokens.ts';
import { LruTable } from './lruTable.ts';

const HOUR_MS = 3_600_000;
/** How long a client address that logged in to an account is remembered as that account's own. */
const KNOWN_ADDRESS_MS = 30 * 24 * HOUR_MS;
/** Most addresses remembered per account (a phone, a laptop, home and office). */
const KNOWN_ADDRESSES_PER_ACCOUNT = 8;

/**
 * The per-account cap: a token bucket of failed logins per hour for each account, all client addresses
 * together, holding at most an hour's worth. It bounds what many addresses guessing at one account get
 * (each address is also held back by its own backoff), and it never locks the user out: attempts from an
 * address that has logged in to the account within KNOWN_ADDRESS_MS skip the bucket, and everyone else is
 * only slowed to the bucket's rate. A success gives its token back.
 */
export class AccountBudget {
  private readonly tokens: HourlyTokens;
  private readonly known: LruTable<Map<string, number>>;

  constructor(
    private readonly failuresPerHour: number,
    maxKeys: number,
  ) {
    this.tokens = new HourlyTokens(failuresPerHour, maxKeys);
    this.known = new LruTable<Map<string, number>>(maxKeys);
  }

  /** Whether `client` logged in to `account` recently: then the bucket does not apply to it. */
  isKnown(account: string, client: string, now: number): boolean {
    const seen = this.known.get(account)?.get(client);
    return seen !== undefined && now - seen <= KNOWN_ADDRESS_MS;
  }

  /** Remembers `client` as one of `account`'s own addresses (after a successful login). */
  remember(account: string, client: string, now: number): void {
    const addresses = this.known.get(account) ?? new Map<string, number>();
    addresses.delete(client);
    addresses.set(client, now);
    for (const oldest of addresses.keys()) {
      if (addresses.size <= KNOWN_ADDRESSES_PER_ACCOUNT) break;
      addresses.delete(oldest);
    }
    this.known.set(account, addresses);
  }

  /** Takes a token for an attempt on `account`: 0 when taken, else the milliseconds until one is there. */
  reserve(account: string, now: number): number {
    if (this.failuresPerHour === 0) return 0;
    return this.tokens.take(account, now);
  }

  /** Gives the token of an attempt that did not fail back. */
  refund(account: string, now: number): void {
    if (this.failuresPerHour === 0) return;
    this.tokens.refund(account, now);
  }
}
