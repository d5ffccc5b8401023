/**
 * Direct delivery to the recipient domain's MX hosts (RFC 5321 §5.1), one session per attempt, STARTTLS
 * whenever the host offers it (opportunistic, RFC 7435: the certificate is not checked, TLS only keeps
 * passive listeners out). Hosts are tried in preference order, each address of a host in turn until one
 * answers; recipients a host deferred (4xx, or a session that broke) go to the next host, those it accepted
 * or refused with 5xx are final there. Under an MTA-STS policy in `enforce` mode (RFC 8461, mtaSts.ts) only
 * the MX hosts the policy names are used, over STARTTLS with a valid certificate for the MX name, or not at all.
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../../core/log.ts';
import type { OutboundEnvelope, RecipientOutcome, Transport } from '../../core/outbound.ts';
import type { Resolver } from '../../pipeline/dns.ts';
import { KeyedLimiter } from './keyedLimiter.ts';
import { type MtaStsPolicy, type MtaStsSource, mxMatchesPolicy } from './mtaSts.ts';
import { type MxHost, resolveMxRoute } from './mxRoute.ts';
import { ourReply, outcome, outcomesFor } from './replies.ts';
import { DEFAULT_TIMEOUTS, SessionError, type SmtpPeer, SmtpSession, type SmtpTimeouts } from './smtpSession.ts';
import { sendMessage } from './smtpTransaction.ts';

export interface MxOptions {
  readonly resolver: Resolver;
  /** 25 in production; a test port in tests. */
  readonly port: number;
  /** Our name in EHLO (the name our egress address's PTR gives). */
  readonly heloName: string;
  readonly timeouts?: SmtpTimeouts;
  /** Deliver to loopback and private addresses (tests); never in production. */
  readonly allowPrivateAddresses?: boolean;
  /** Order among MX hosts of equal preference (tests). */
  readonly random?: () => number;
  /** MX hosts tried per attempt; default 5. */
  readonly maxHosts?: number;
  /** Addresses tried per host; default 2 (as Postfix's smtp_mx_session_limit). */
  readonly maxAddressesPerHost?: number;
  /** Sessions open at once to one destination domain from this transport; default 4. */
  readonly maxSessionsPerDomain?: number;
  /** MTA-STS policies (mailauthMtaSts in production); without it no policy is looked up. */
  readonly mtaSts?: MtaStsSource;
  /** CAs trusted besides the system's for MTA-STS certificate checks (tests). */
  readonly tlsCa?: string;
  /** Hosts that gave no session are logged here (never message content). */
  readonly log?: Logger;
}

interface HostResult {
  /** Outcomes when a session was had; undefined when no address of the host answered. */
  readonly outcomes?: RecipientOutcome[];
  /** Why not, when no session: our reply for the last address tried. */
  readonly failure?: string;
}

export class MxTransport implements Transport {
  readonly name = 'mx';
  private readonly limiter: KeyedLimiter;

  constructor(private readonly options: MxOptions) {
    this.limiter = new KeyedLimiter(options.maxSessionsPerDomain ?? 4);
  }

  deliver(envelope: OutboundEnvelope, open: () => Promise<Readable>, size: number): Promise<RecipientOutcome[]> {
    return this.limiter.run(envelope.domain, () => this.deliverNow(envelope, open, size));
  }

  private async deliverNow(
    envelope: OutboundEnvelope,
    open: () => Promise<Readable>,
    size: number,
  ): Promise<RecipientOutcome[]> {
    const route = await resolveMxRoute(envelope.domain, this.options);
    if ('reply' in route) return outcomesFor(envelope.recipients, route.reply);
    const policy = await this.enforcedPolicy(envelope.domain);
    const hosts = policy ? route.hosts.filter((h) => mxMatchesPolicy(h.name, policy)) : route.hosts;
    if (hosts.length === 0) return outcomesFor(envelope.recipients, ourReply.stsNoMx(envelope.domain));
    const final: RecipientOutcome[] = [];
    let pending: RecipientOutcome[] = [];
    let pendingAddresses = [...envelope.recipients];
    let lastFailure = ourReply.noRoute(envelope.domain, 'no host tried');
    for (const host of hosts) {
      const result = await this.tryHost(host, envelope, pendingAddresses, open, size, policy !== undefined);
      if (!result.outcomes) {
        lastFailure = result.failure ?? lastFailure;
        continue;
      }
      final.push(...result.outcomes.filter((o) => o.result !== 'deferred'));
      pending = result.outcomes.filter((o) => o.result === 'deferred');
      pendingAddresses = pending.map((o) => o.address);
      if (pendingAddresses.length === 0) break;
    }
    const deferredBy = new Map(pending.map((o) => [o.address, o]));
    return [...final, ...pendingAddresses.map((a) => deferredBy.get(a) ?? outcome(a, lastFailure))];
  }

  /** The first address of the host that gives a session delivers; the others are tried only if it gives none. */
  private async tryHost(
    host: MxHost,
    envelope: OutboundEnvelope,
    recipients: readonly string[],
    open: () => Promise<Readable>,
    size: number,
    requireTls: boolean,
  ): Promise<HostResult> {
    let failure: string | undefined;
    for (const address of host.addresses.slice(0, this.options.maxAddressesPerHost ?? 2)) {
      let session: SmtpSession;
      try {
        session = await SmtpSession.open(this.peer(host.name, address, requireTls));
      } catch (err) {
        if (!(err instanceof SessionError)) throw err;
        failure = err.reply;
        this.options.log?.info('mx host gave no session', {
          domain: envelope.domain,
          host: host.name,
          address,
          reply: failure,
        });
        continue;
      }
      try {
        return { outcomes: await sendMessage(session, envelope, recipients, open, size) };
      } finally {
        // Closed before the limiter's slot is given on, so the per-domain bound holds on the wire too.
        await session.quit();
      }
    }
    return { failure };
  }

  /** The domain's MTA-STS policy when it is enforced; a failed lookup counts as none (RFC 8461 §5). */
  private async enforcedPolicy(domain: string): Promise<MtaStsPolicy | undefined> {
    const policy = await this.options.mtaSts?.(domain).catch(() => undefined);
    return policy?.mode === 'enforce' ? policy : undefined;
  }

  private peer(hostname: string, address: string, requireTls: boolean): SmtpPeer {
    return {
      address,
      hostname,
      port: this.options.port,
      tls: requireTls ? 'starttls' : 'opportunistic',
      verifyCertificate: requireTls,
      ca: this.options.tlsCa,
      heloName: this.options.heloName,
      timeouts: this.options.timeouts ?? DEFAULT_TIMEOUTS,
    };
  }
}
