/**
 * Our Received header (RFC 5321 §4.4), one per accepted message. It is the first line of the stored object
 * (S3), written before the client's text, so it is shared by every recipient's copy; the per-copy trace
 * fields (Return-Path, Delivered-To) and the filter's verdict fields live in each copy's headerPrefix.
 */
import { isIP } from 'node:net';

export interface ReceivedInfo {
  /** The EHLO/HELO argument as the client gave it. */
  readonly helo: string;
  /** The client's address (from the PROXY header behind the load balancer). */
  readonly clientIp: string;
  /** Reverse DNS name of the client, if known. */
  readonly clientHostname?: string;
  /** Our host name. */
  readonly by: string;
  /** Protocol keyword: SMTP, ESMTP, ESMTPS, UTF8SMTPS ... (RFC 3848, RFC 6531 §3.7.3). */
  readonly protocol: string;
  readonly id: string;
  /** TLS details for the comment, if the session is secure. */
  readonly tls?: { readonly version?: string; readonly cipher?: string };
  /** The recipient, named only when the transaction has exactly one. */
  readonly recipient?: string;
  readonly date: Date;
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `[192.0.2.1]` or `[IPv6:2001:db8::1]` (RFC 5321 §4.1.3). */
export function addressLiteral(ip: string): string {
  const plain = ip.replace(/^::ffff:/i, '');
  if (isIP(plain) === 4) return `[${plain}]`;
  if (isIP(plain) === 6) return `[IPv6:${plain}]`;
  return '[unknown]';
}

/** Anything a client controls, made safe for a comment: printable ASCII without parentheses or backslashes. */
function commentSafe(text: string, max = 100): string {
  return text.replace(/[^\x21-\x27\x2a-\x5b\x5d-\x7e]/g, '?').slice(0, max);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** RFC 5322 §3.3 date-time in UTC: `Fri, 21 Nov 2025 21:28:00 +0000`. */
export function rfc5322Date(date: Date): string {
  return (
    `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`
  );
}

/** The complete header field, folded, CRLF-terminated. */
export function buildReceived(info: ReceivedInfo): string {
  const literal = addressLiteral(info.clientIp);
  const helo = info.helo.trim();
  const heloIsName = HOSTNAME.test(helo) || helo === literal;
  const rdns = info.clientHostname && HOSTNAME.test(info.clientHostname) ? `${info.clientHostname} ` : '';
  const from = heloIsName
    ? `from ${helo} (${rdns}${literal})`
    : `from ${literal} (${rdns}${literal} helo=${commentSafe(helo) || 'none'})`;
  const tls =
    info.tls && (info.tls.version || info.tls.cipher)
      ? `\r\n\t(using ${commentSafe(info.tls.version ?? 'TLS')} with cipher ${commentSafe(info.tls.cipher ?? 'unknown')})`
      : '';
  const forClause = info.recipient ? `\r\n\tfor <${info.recipient}>` : '';
  return (
    `Received: ${from}\r\n\tby ${info.by} (Postern) with ${info.protocol} id ${info.id}${tls}${forClause};\r\n` +
    `\t${rfc5322Date(info.date)}\r\n`
  );
}
