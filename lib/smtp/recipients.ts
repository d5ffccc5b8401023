/**
 * The recipient policy of RCPT TO: route the address (cached briefly), refuse relaying (554 5.7.1), unknown
 * users (550 5.1.1), accounts at or over quota (452 4.2.2) and non-ASCII addresses without SMTPUTF8
 * (553 5.6.7). An accepted recipient comes back with the accounts it delivers to.
 */
import type { Invoker, MailStore } from '../core/ports.ts';
import { type LocalRecipient, type RemoteRecipient, remoteRecipient } from '../delivery/types.ts';
import type { RouteRequest, RouteResult } from '../pipeline/contracts.ts';
import { REPLIES, type Reply } from './replies.ts';

/** One accepted local recipient of a transaction. */
export type Recipient = LocalRecipient;

export const isAscii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s);

/** Route results by address for a short time, bounded in size. */
class RouteCache {
  private readonly entries = new Map<string, { at: number; result: RouteResult }>();
  constructor(
    private readonly ttlMs: number,
    private readonly max = 10_000,
  ) {}
  get(key: string): RouteResult | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (Date.now() - hit.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.result;
  }
  set(key: string, result: RouteResult): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { at: Date.now(), result });
  }
}

export interface RecipientPolicyDeps {
  readonly invoker: Invoker;
  readonly mail: MailStore;
  readonly hostname: string;
  readonly routeCacheMs: number;
}

export class RecipientPolicy {
  private readonly routes: RouteCache;

  constructor(private readonly deps: RecipientPolicyDeps) {
    this.routes = new RouteCache(deps.routeCacheMs);
  }

  /** The local recipient, or the reply that refuses it (relaying is denied: the MX). */
  check(address: string, smtpUtf8: boolean): Promise<Recipient | Reply> {
    return this.resolve(address, smtpUtf8, () => REPLIES.relayDenied);
  }

  /**
   * For an authenticated client (submission): an address in a domain we do not serve is a remote recipient
   * for the outbound queue, when it is a plain mailbox address (no literals, no quoted local part needing quotes).
   */
  checkForRelay(address: string, smtpUtf8: boolean): Promise<Recipient | RemoteRecipient | Reply> {
    return this.resolve(address, smtpUtf8, remoteOrRefusal);
  }

  private async resolve<T>(
    address: string,
    smtpUtf8: boolean,
    notLocal: (address: string) => T | Reply,
  ): Promise<Recipient | T | Reply> {
    if (!isAscii(address) && !smtpUtf8) return REPLIES.utf8Required;
    const result = await this.route(address);
    switch (result.kind) {
      case 'invalid':
        return REPLIES.badRecipientSyntax;
      case 'not-local':
        return notLocal(address);
      case 'unknown-user':
        return REPLIES.unknownUser;
    }
    if (result.remote.length > 0) return REPLIES.forwardingUnsupported;
    for (const account of result.accounts) {
      if (account.quotaBytes <= 0) continue;
      const usage = await this.deps.mail.getUsage(account.accountId);
      if (usage.bytes >= account.quotaBytes) return REPLIES.mailboxFull;
    }
    return { address, accounts: result.accounts };
  }

  private async route(address: string): Promise<RouteResult> {
    const key = address.toLowerCase();
    const cached = this.routes.get(key);
    if (cached) return cached;
    const result = await this.deps.invoker.invoke<RouteRequest, RouteResult>('route', {
      recipient: address,
      hostname: this.deps.hostname,
    });
    this.routes.set(key, result);
    return result;
  }
}

function remoteOrRefusal(address: string): RemoteRecipient | Reply {
  try {
    return remoteRecipient(address);
  } catch {
    return REPLIES.badRecipientSyntax;
  }
}

export function isReply<T extends object>(x: T | Reply): x is Reply {
  return 'code' in x;
}

export function isRemote(x: Recipient | RemoteRecipient): x is RemoteRecipient {
  return 'domain' in x;
}
