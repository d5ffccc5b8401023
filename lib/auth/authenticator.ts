/**
 * Password authentication for every protocol that takes one (POP3 now; IMAP and SMTP submission next):
 * address + password checked against the Directory, with brute-force protection that an attacker cannot turn
 * into a way of locking a user out.
 *
 * Who is penalised (lib/auth/penaltyTable.ts, exponential backoff like Dovecot's auth_penalty):
 * - each account-and-client-address pair: `maxFailuresPerPair` free failures, then a wait of `backoffMs`,
 *   doubled per further failure up to `maxBackoffMs`. A success from the pair clears it.
 * - each client address, all accounts together (a spray): `maxFailuresPerIp` free failures (higher: many
 *   users share one address behind a NAT), then the same backoff. A success does not clear it: one known
 *   password must not reset the count an attacker runs against other accounts from that address.
 * Client addresses are IPv4 addresses and IPv6 /64 networks (lib/auth/clientKey.ts).
 *
 * There is no per-account lockout: failing from address A never refuses the right password from address B.
 * The only per-account limit is a rate (lib/auth/accountBudget.ts): `accountFailuresPerHour` failed logins
 * per hour on one account, all addresses together, against many addresses guessing at one account. Addresses
 * that logged in to the account recently skip it, and everyone else is slowed to that rate, never locked out.
 *
 * Every attempt is reserved in each table BEFORE the password is hashed and counts as a failure until its
 * check is done, so simultaneous attempts cannot all pass the same check: at most the free budget's worth
 * of hashes run, then one at a time after each wait. An attempt past the budget only because the same client's
 * checks are still running waits for them (up to 10 s) rather than being refused: a mail client opening a pool of
 * connections at once all get in when the password is right. Refused attempts ('throttled') run no lookup and no
 * hash; protocols answer them with a temporary error such as POP3's [SYS/TEMP]. Every refusal, throttled or
 * wrong, is answered after `failureDelayMs`, which slows guessing on one connection.
 *
 * Unknown users cost the same hash as known ones (verification against a dummy hash made with the current
 * algorithm), so response time does not tell whether an address exists. After a successful login with a
 * hash of an older algorithm or weaker parameters, the account is rehashed (Directory.setPasswordHash).
 *
 * The tables live in this process's memory, each bounded to `maxTrackedKeys` keys (least recently used
 * dropped first, never an attempt in flight): each gateway task throttles on its own, so a client spreading
 * attempts over several tasks gets up to tasks x budget. Cross-task throttling would need the counters in
 * the store (a DynamoDB item per key with an atomic ADD and a TTL).
 *
 * Settings (AuthConfig in lib/core/config.ts, read by loadConfig): POSTERN_AUTH_FAILURE_DELAY_MS (1000),
 * POSTERN_AUTH_MAX_FAILURES_PAIR (5), POSTERN_AUTH_MAX_FAILURES_IP (20), POSTERN_AUTH_BACKOFF_MS (2000),
 * POSTERN_AUTH_MAX_BACKOFF_MS (15 minutes), POSTERN_AUTH_WINDOW_MS (1 hour),
 * POSTERN_AUTH_ACCOUNT_FAILURES_PER_HOUR (60; 0 switches it off).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { parseAddress } from '../core/address.ts';
import type { AuthConfig } from '../core/config.ts';
import { type Logger, silentLogger } from '../core/log.ts';
import { type PasswordHasher, passwordHasher } from '../core/password.ts';
import type { Account, Directory } from '../core/ports.ts';
import { AccountBudget } from './accountBudget.ts';
import { clientKey } from './clientKey.ts';
import { PenaltyTable } from './penaltyTable.ts';

/** The settings (AuthConfig, documented there) and what only code sets. */
export interface AuthenticatorOptions extends AuthConfig {
  /** Most keys tracked in each table; the least recently used are dropped past it (bounded memory). */
  readonly maxTrackedKeys: number;
}

export const DEFAULT_AUTHENTICATOR_OPTIONS: AuthenticatorOptions = {
  failureDelayMs: 1000,
  maxFailuresPerPair: 5,
  maxFailuresPerIp: 20,
  backoffMs: 2000,
  maxBackoffMs: 15 * 60_000,
  windowMs: 60 * 60_000,
  accountFailuresPerHour: 60,
  maxTrackedKeys: 100_000,
};

/** How often, and how many times, an attempt waiting for the address's checks in flight looks again (10 s). */
const IN_FLIGHT_POLL_MS = 20;
const IN_FLIGHT_POLLS = 500;

/** What the authenticator uses besides the Directory; tests replace the clock or count the hashing. */
export interface AuthenticatorDeps {
  readonly now?: () => number;
  readonly passwords?: PasswordHasher;
  readonly log?: Logger;
}

export interface Credentials {
  /** What the client sent as user name (normalised here). */
  readonly username: string;
  readonly password: string;
  /** The client's address (after PROXY protocol), for per-address throttling. */
  readonly remoteAddress: string;
}

export type AuthResult =
  | { readonly ok: true; readonly account: Account }
  /** Wrong user name or password (deliberately not told apart). */
  | { readonly ok: false; readonly reason: 'invalid' }
  /** Too many recent failures from this address (for this account or overall); the password was not checked. */
  | { readonly ok: false; readonly reason: 'throttled'; readonly retryAfterMs: number };

export interface Authenticator {
  /** Throws only on storage failures (TemporaryError): the caller answers with a temporary error. */
  authenticate(credentials: Credentials): Promise<AuthResult>;
}

function normalizeUsername(username: string): string {
  try {
    return parseAddress(username.trim()).address;
  } catch {
    return username.trim().toLowerCase();
  }
}

/** The attempt's keys in each table, and whether the account budget applies to it. */
interface Attempt {
  readonly account: string;
  readonly client: string;
  readonly pair: string;
  readonly budgeted: boolean;
}

/** The three throttles together: reserve in all before the hash, settle in all after it. */
class Throttle {
  private readonly pairs: PenaltyTable;
  private readonly clients: PenaltyTable;
  private readonly accounts: AccountBudget;

  constructor(opts: AuthenticatorOptions) {
    const backoff = { backoffMs: opts.backoffMs, maxBackoffMs: opts.maxBackoffMs, windowMs: opts.windowMs };
    this.pairs = new PenaltyTable({ ...backoff, freeFailures: opts.maxFailuresPerPair }, opts.maxTrackedKeys);
    this.clients = new PenaltyTable({ ...backoff, freeFailures: opts.maxFailuresPerIp }, opts.maxTrackedKeys);
    this.accounts = new AccountBudget(opts.accountFailuresPerHour, opts.maxTrackedKeys);
  }

  /** Reserves the attempt everywhere it counts, or returns how long to wait (nothing reserved then). */
  reserve(account: string, remoteAddress: string, now: number): Attempt | number {
    const client = clientKey(remoteAddress);
    const pair = `${client}|${account}`; // a client key never contains '|'
    const budgeted = !this.accounts.isKnown(account, client, now);
    const wait = Math.max(this.clients.waitFor(client, now), this.pairs.waitFor(pair, now));
    if (wait > 0) return wait;
    if (budgeted) {
      const budgetWait = this.accounts.reserve(account, now);
      if (budgetWait > 0) return budgetWait;
    }
    this.clients.reserve(client, now);
    this.pairs.reserve(pair, now);
    return { account, client, pair, budgeted };
  }

  /** True when the address's attempts wait only for attempts already in flight, not for a penalty. */
  busy(account: string, remoteAddress: string, now: number): boolean {
    const client = clientKey(remoteAddress);
    const pair = `${client}|${account}`;
    const penalised = (table: PenaltyTable, key: string) => table.waitFor(key, now) > 0 && !table.onlyBusy(key, now);
    if (penalised(this.clients, client) || penalised(this.pairs, pair)) return false;
    return this.clients.onlyBusy(client, now) || this.pairs.onlyBusy(pair, now);
  }

  succeeded(a: Attempt, now: number): void {
    this.clients.release(a.client);
    this.pairs.clear(a.pair);
    if (a.budgeted) this.accounts.refund(a.account, now);
    this.accounts.remember(a.account, a.client, now);
  }

  failed(a: Attempt, now: number): void {
    this.clients.fail(a.client, now);
    this.pairs.fail(a.pair, now);
  }

  /** The check could not be made (storage error): the attempt counts for nothing. */
  abandoned(a: Attempt, now: number): void {
    this.clients.release(a.client);
    this.pairs.release(a.pair);
    if (a.budgeted) this.accounts.refund(a.account, now);
  }
}

export function createAuthenticator(
  directory: Directory,
  options: Partial<AuthenticatorOptions> = {},
  deps: AuthenticatorDeps = {},
): Authenticator {
  const opts = { ...DEFAULT_AUTHENTICATOR_OPTIONS, ...options };
  const now = deps.now ?? Date.now;
  const passwords = deps.passwords ?? passwordHasher;
  const log = deps.log ?? silentLogger;
  const throttle = new Throttle(opts);
  // A hash of a random password, made ahead: unknown users are verified against it, so they cost the same.
  const dummyHash = passwords.hash(`dummy-${Math.random()}-${Date.now()}`);
  dummyHash.catch(() => {}); // a failure surfaces at the first unknown user, not as an unhandled rejection

  const refuse = async <R extends AuthResult>(result: R): Promise<R> => {
    if (opts.failureDelayMs > 0) await sleep(opts.failureDelayMs);
    return result;
  };

  /** Stores the password under the current parameters; a failure leaves the old hash, which still works. */
  const upgrade = async (account: Account, password: string): Promise<void> => {
    try {
      await directory.setPasswordHash(account.address, await passwords.hash(password));
      log.info('password rehashed', { accountId: account.accountId });
    } catch (err) {
      log.warn('password rehash failed', { accountId: account.accountId, err });
    }
  };

  const check = async (address: string, password: string): Promise<Account | undefined> => {
    const account = address.includes('@') ? await directory.getAccountByAddress(address) : undefined;
    const valid = await passwords.verify(password, account?.passwordHash ?? (await dummyHash));
    return account && valid ? account : undefined;
  };

  return {
    async authenticate({ username, password, remoteAddress }) {
      const address = normalizeUsername(username);
      let attempt = throttle.reserve(address, remoteAddress, now());
      // Past the free budget only because of checks still running: wait for them (bounded), do not refuse.
      for (
        let i = 0;
        typeof attempt === 'number' && i < IN_FLIGHT_POLLS && throttle.busy(address, remoteAddress, now());
        i++
      ) {
        await sleep(IN_FLIGHT_POLL_MS);
        attempt = throttle.reserve(address, remoteAddress, now());
      }
      if (typeof attempt === 'number') return refuse({ ok: false, reason: 'throttled', retryAfterMs: attempt });
      let account: Account | undefined;
      try {
        account = await check(address, password);
      } catch (err) {
        throttle.abandoned(attempt, now());
        throw err;
      }
      if (!account) {
        throttle.failed(attempt, now());
        return refuse({ ok: false, reason: 'invalid' });
      }
      throttle.succeeded(attempt, now());
      if (passwords.needsRehash(account.passwordHash)) await upgrade(account, password);
      return { ok: true, account };
    },
  };
}
