/**
 * SMTP replies as delivery results. A server's reply is kept as it came (one line); when no server answered,
 * or its answer cannot be final, the reply is ours, with RFC 3463 enhanced status codes so a DSN can carry it.
 */
import type { DeliveryResult, RecipientOutcome } from '../../core/outbound.ts';

/** 2xx delivered, 4xx deferred (try again later), 5xx failed (RFC 5321 §4.2.1); anything else is deferred. */
export function resultOfCode(code: number | undefined): DeliveryResult {
  if (code !== undefined && code >= 200 && code < 300) return 'delivered';
  if (code !== undefined && code >= 500 && code < 600) return 'failed';
  return 'deferred';
}

/** A multi-line reply as one line (its text parts joined), at most 512 characters. */
export function oneLine(reply: string): string {
  const lines = reply.split(/\r?\n/).filter((l) => l.trim() !== '');
  const first = lines[0] ?? '';
  const rest = lines.slice(1).map((l) => l.replace(/^\d{3}[- ]/, ''));
  return [first.replace(/^(\d{3})-/, '$1 '), ...rest].join(' ').slice(0, 512);
}

/** The reply code at the start of a reply line, if it has one. */
export function codeOf(reply: string | undefined): number | undefined {
  const m = reply ? /^([2-5]\d\d)\b/.exec(reply) : null;
  return m ? Number(m[1]) : undefined;
}

export function outcome(address: string, reply: string, remoteMta?: string): RecipientOutcome {
  const line = oneLine(reply);
  return { address, result: resultOfCode(codeOf(line)), reply: line, remoteMta };
}

export function outcomesFor(addresses: readonly string[], reply: string, remoteMta?: string): RecipientOutcome[] {
  return addresses.map((a) => outcome(a, reply, remoteMta));
}

/** Our own replies, for when no server gave one (or none we can pass on as it is). */
export const ourReply = {
  /** The host could not be reached: refused, unreachable, no greeting in time. */
  noAnswer: (host: string, why: string) => `451 4.4.1 No answer from ${host}: ${why}`,
  /** The session broke after it had started: dropped, timed out. */
  badConnection: (host: string, why: string) => `451 4.4.2 Bad connection to ${host}: ${why}`,
  /** DNS could not say where the domain's mail goes (SERVFAIL, timeout). */
  dnsFailure: (domain: string, why: string) => `451 4.4.3 DNS lookup for ${domain} failed: ${why}`,
  noRoute: (domain: string, why: string) => `451 4.4.4 No usable mail host for ${domain}: ${why}`,
  tlsRequired: (host: string, why: string) => `451 4.7.4 TLS required with ${host}: ${why}`,
  tlsFailed: (host: string, why: string) => `451 4.7.5 TLS with ${host} failed: ${why}`,
  authFailed: (host: string, why: string) => `451 4.7.0 Authentication with ${host} failed: ${why}`,
  /** A session-level refusal (greeting, EHLO) that we do not take as final for the message. */
  refused: (host: string, reply: string) => `451 4.3.0 ${host} refused the session: ${oneLine(reply)}`,
  /** RFC 7505 §3: a null MX says the domain accepts no mail. */
  nullMx: (domain: string) => `556 5.1.10 ${domain} accepts no mail (null MX, RFC 7505)`,
  noSuchDomain: (domain: string) => `550 5.1.2 Domain ${domain} does not exist`,
  noAddress: (domain: string) => `554 5.4.4 ${domain} has neither MX nor address records`,
  /** RFC 1870 §6.1: the message exceeds the fixed limit the server announced in SIZE. */
  tooBig: (host: string, why: string) => `552 5.3.4 Message too big for ${host}: ${why}`,
  /** RFC 6152 §3: 8-bit data only to a server that offers 8BITMIME (we do not downgrade). */
  no8BitMime: (host: string) => `554 5.6.3 ${host} does not offer 8BITMIME and the message is 8-bit`,
  /** RFC 6531 §3.2: a message that needs SMTPUTF8 only to a server that offers it. */
  noSmtpUtf8: (host: string) => `553 5.6.7 ${host} does not offer SMTPUTF8, which the message needs`,
  /** RFC 8461 §5.1: under an enforced policy, an MX the policy does not name is not used. */
  stsNoMx: (domain: string) => `451 4.7.5 No MX host of ${domain} matches its MTA-STS policy`,
  internal: (why: string) => `451 4.3.0 Local error in delivery: ${why}`,
} as const;
