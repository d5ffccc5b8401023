/**
 * The recipient policy of RCPT TO: route the address (cached briefly), refuse relaying (554 5.7.1), unknown
 * users (550 5.1.1), accounts at or over quota (452 4.2.2) and non-ASCII addresses without SMTPUTF8
 * (553 5.6.7). An accepted recipient comes back with the accounts it delivers to and the remote copies it
 * forwards (alias targets outside our domains). An SRS address of ours (lib/delivery/srs.ts: a bounce to a
 * copy we forwarded) stands for the address it was made from, when its hash and age check out; else it is
 * refused 550 5.1.1, whatever a catch-all would say.
 */
import type { Invoker, MailStore } from '../core/ports.ts';
import { isSrsLocalPart, type SrsCodec } from '../delivery/srs.ts';
import { type LocalRecipient, type RemoteRecipient, remoteRecipient } from '../delivery/types.ts';
import type { RouteRequest, RouteResult } from '../pipeline/contracts.ts';
import { REPLIES, type Reply } from './replies.ts';

/** One accepted recipient of the MX: its local accounts and what it forwards through the queue. */
export interface Recipient extends LocalRecipient {
  /** Alias targets outside our domains, or the sender an SRS address of ours stands for. */
  readonly forward: readonly RemoteRecipient[];
}

/** SRS addresses standing for SRS addresses of ours followed at most this deep (SRS1 -> SRS0 -> sender). */
const MAX_SRS_HOPS = 2;

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
  /** Forwarding is on (remote alias targets, SRS bounces) when there is a codec; else refused as before. */
  readonly srs?: SrsCodec;
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
   * Forwarding stays an MX feature: a recipient that would forward is refused here as before.
   */
  async checkForRelay(address: string, smtpUtf8: boolean): Promise<Recipient | RemoteRecipient | Reply> {
    const outcome = await this.resolve(address, smtpUtf8, remoteOrRefusal);
    if (!isReply(outcome) && !isRemote(outcome) && outcome.forward.length > 0) return REPLIES.forwardingUnsupported;
    return outcome;
  }

  private async resolve<T>(
    address: string,
    smtpUtf8: boolean,
    notLocal: (address: string) => T | Reply,
    srsHops = 0,
  ): Promise<Recipient | T | Reply> {
    if (!isAscii(address) && !smtpUtf8) return REPLIES.utf8Required;
    const result = await this.route(address);
    switch (result.kind) {
      case 'invalid':
        return REPLIES.badRecipientSyntax;
      case 'not-local':
        return notLocal(address);
    }
    if (this.deps.srs && isSrsLocalPart(address.slice(0, address.lastIndexOf('@')))) {
      return this.reverseSrs(this.deps.srs, address, smtpUtf8, srsHops);
    }
    if (result.kind === 'unknown-user') return REPLIES.unknownUser;
    if (result.remote.length > 0 && !this.deps.srs) return REPLIES.forwardingUnsupported;
    for (const account of result.accounts) {
      if (account.quotaBytes <= 0) continue;
      const usage = await this.deps.mail.getUsage(account.accountId);
      if (usage.bytes >= account.quotaBytes) return REPLIES.mailboxFull;
    }
    const forward = result.remote.map(remoteOrRefusal).filter((r): r is RemoteRecipient => !isReply(r));
    return { address, accounts: result.accounts, forward };
  }

  /** An SRS address in a domain of ours: what it stands for, local or remote, or 550 5.1.1 when forged or old. */
  private async reverseSrs(
    srs: SrsCodec,
    address: string,
    smtpUtf8: boolean,
    hops: number,
  ): Promise<Recipient | Reply> {
    const reversal = srs.reverse(address);
    if (!reversal?.ok || hops >= MAX_SRS_HOPS) return REPLIES.badSrsAddress;
    const original = await this.resolve(reversal.address, smtpUtf8, remoteOrRefusal, hops + 1);
    if (isReply(original)) return original;
    if (isRemote(original)) return { address, accounts: [], forward: [original] };
    return { address, accounts: original.accounts, forward: original.forward };
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
