/**
 * Delivery status notifications (RFC 3464) as multipart/report; report-type=delivery-status (RFC 6522):
 * a human-readable part, the machine-readable message/delivery-status part, and what is returned of the
 * original message (its headers, or the message cut at a bound). Pure: the caller reads the message and
 * hands the bytes in (lib/outbound/dsnReturned.ts).
 */
import { randomBytes } from 'node:crypto';
import { rfc5322Date } from '../smtp/received.ts';
import { type DsnAction, foldField, originalRecipient, printableAscii, statusFor, typedAddress } from './dsnFields.ts';

export type { DsnAction } from './dsnFields.ts';

export interface DsnRecipientReport {
  /** The address we tried (Final-Recipient). */
  readonly address: string;
  readonly action: DsnAction;
  /** ORCPT as given, `addr-type;address` (Original-Recipient). */
  readonly orcpt?: string;
  /** The last reply line, ours or the remote server's (Status and Diagnostic-Code come from it). */
  readonly reply?: string;
  /** The host that gave the reply (Remote-MTA). */
  readonly remoteMta?: string;
  readonly lastAttemptAt?: number;
  /** For 'delayed': when the queue gives up (Will-Retry-Until). */
  readonly willRetryUntil?: number;
}

/** What goes back of the original message: its header section, or the message up to `limit` octets. */
export interface ReturnedContent {
  readonly kind: 'headers' | 'message';
  readonly bytes: Buffer;
  /** True when the original went on beyond `bytes`. */
  readonly truncated: boolean;
  readonly limit: number;
}

export interface DsnInput {
  /** Our host name (Reporting-MTA, From, Message-ID). */
  readonly hostname: string;
  /** The original envelope sender: the DSN goes there (never '' — the caller checks). */
  readonly to: string;
  /** ENVID of the original MAIL FROM (Original-Envelope-Id). */
  readonly envId?: string;
  /** When we accepted the original (Arrival-Date). */
  readonly arrivalDate: number;
  readonly recipients: readonly DsnRecipientReport[];
  readonly returned?: ReturnedContent;
  /** Unique part of the Message-ID (an ULID). */
  readonly id: string;
  readonly date: number;
}

const CRLF = '\r\n';
const isAscii = (text: string | Buffer) =>
  !/[^\x00-\x7f]/.test(typeof text === 'string' ? text : text.toString('latin1'));
const date = (ms: number) => rfc5322Date(new Date(ms));
const cleanAddress = (address: string) => address.replace(/[\x00-\x20\x7f<>]/g, '');

/** The whole DSN message, CRLF line ends, ready for SystemMailSender.send. */
export function buildDsn(input: DsnInput): Buffer {
  const parts = [humanPart(input), statusPart(input), ...(input.returned ? [returnedPart(input.returned)] : [])];
  const boundary = boundaryNotIn(parts);
  const host = printableAscii(input.hostname, 255);
  const head =
    `From: Mail Delivery System <MAILER-DAEMON@${host}>${CRLF}` +
    `To: <${cleanAddress(input.to)}>${CRLF}` +
    `Subject: ${subjectOf(input.recipients)}${CRLF}` +
    `Date: ${date(input.date)}${CRLF}` +
    `Message-ID: <${printableAscii(input.id, 64)}@${host}>${CRLF}` +
    // RFC 3834 §5: an automatic reply, so responders do not answer it.
    `Auto-Submitted: auto-replied${CRLF}` +
    `MIME-Version: 1.0${CRLF}` +
    `Content-Type: multipart/report; report-type=delivery-status;${CRLF}\tboundary="${boundary}"${CRLF}` +
    CRLF +
    `This is a MIME-encapsulated message.${CRLF}${CRLF}`;
  const chunks: Buffer[] = [Buffer.from(head)];
  for (const part of parts) chunks.push(Buffer.from(`--${boundary}${CRLF}`), part, Buffer.from(CRLF));
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return Buffer.concat(chunks);
}

function subjectOf(recipients: readonly DsnRecipientReport[]): string {
  const actions = new Set(recipients.map((r) => r.action));
  if (actions.has('failed')) return 'Undelivered Mail Returned to Sender';
  if (actions.has('delayed')) return 'Delayed Mail (still being retried)';
  return 'Successful Mail Delivery Report';
}

/** A boundary that occurs in no part (the returned message is arbitrary text). */
function boundaryNotIn(parts: readonly Buffer[]): string {
  for (;;) {
    const boundary = `=_postern_${randomBytes(12).toString('hex')}`;
    if (!parts.some((p) => p.includes(boundary))) return boundary;
  }
}

const EXPLAIN: Record<DsnAction, string> = {
  failed: 'could not be delivered to the recipients below; this is a permanent error.',
  delayed: 'has not been delivered yet to the recipients below. The mail system keeps trying; no action is needed.',
  delivered: 'was delivered to the recipients below.',
  relayed:
    'was handed to the next mail system for the recipients below. That system does not send delivery ' +
    'notifications, so this is the last report you get.',
};

function humanPart(input: DsnInput): Buffer {
  const lines = [`This is the mail system at host ${printableAscii(input.hostname, 255)}.`, ''];
  for (const action of ['failed', 'delayed', 'relayed', 'delivered'] as const) {
    const group = input.recipients.filter((r) => r.action === action);
    if (group.length === 0) continue;
    lines.push(`Your message ${EXPLAIN[action]}`, '');
    for (const r of group) {
      lines.push(`  <${cleanAddress(r.address)}>${r.reply ? `: ${printableAscii(r.reply)}` : ''}`);
      if (r.willRetryUntil) lines.push(`    (retried until ${date(r.willRetryUntil)})`);
    }
    lines.push('');
  }
  lines.push(returnedNote(input.returned));
  const text = lines.join(CRLF) + CRLF;
  const ascii = isAscii(text);
  const body = ascii ? text : base64Lines(Buffer.from(text, 'utf8'));
  return Buffer.from(
    `Content-Type: text/plain; charset=${ascii ? 'us-ascii' : 'utf-8'}${CRLF}` +
      `Content-Transfer-Encoding: ${ascii ? '7bit' : 'base64'}${CRLF}` +
      `Content-Description: Notification${CRLF}${CRLF}${body}`,
  );
}

function returnedNote(returned: ReturnedContent | undefined): string {
  if (!returned) return 'Your message is not returned.';
  if (returned.kind === 'headers') {
    return returned.truncated
      ? `The headers of your message are attached, cut after the first ${kib(returned.limit)}.`
      : 'The headers of your message are attached.';
  }
  return returned.truncated
    ? `Your message is attached, cut after the first ${kib(returned.limit)}.`
    : 'Your message is attached.';
}

const kib = (bytes: number) => `${Math.floor(bytes / 1024)} KiB`;

/** RFC 3464 §2.2 per-message fields, then §2.3 per-recipient blocks, each after an empty line. */
function statusPart(input: DsnInput): Buffer {
  let text = foldField('Reporting-MTA', `dns; ${printableAscii(input.hostname, 255)}`);
  if (input.envId) text += foldField('Original-Envelope-Id', printableAscii(input.envId, 100));
  text += foldField('Arrival-Date', date(input.arrivalDate));
  for (const r of input.recipients) text += CRLF + recipientBlock(r);
  return Buffer.from(
    `Content-Type: message/delivery-status${CRLF}Content-Description: Delivery report${CRLF}${CRLF}${text}`,
  );
}

function recipientBlock(r: DsnRecipientReport): string {
  const orcpt = r.orcpt ? originalRecipient(r.orcpt) : undefined;
  let text = orcpt ? foldField('Original-Recipient', orcpt) : '';
  text += foldField('Final-Recipient', typedAddress(r.address));
  text += foldField('Action', r.action);
  text += foldField('Status', statusFor(r.action, r.reply));
  if (r.remoteMta) text += foldField('Remote-MTA', `dns; ${printableAscii(r.remoteMta, 255)}`);
  if (r.reply) text += foldField('Diagnostic-Code', `smtp; ${printableAscii(r.reply)}`);
  if (r.lastAttemptAt) text += foldField('Last-Attempt-Date', date(r.lastAttemptAt));
  if (r.action === 'delayed' && r.willRetryUntil) text += foldField('Will-Retry-Until', date(r.willRetryUntil));
  return text;
}

/**
 * text/rfc822-headers (RFC 6522 §4) or message/rfc822. 8-bit headers go base64 in a text part, which any
 * path carries; a returned message may not be encoded (RFC 2046 §5.2.1), so it says 8bit when it is.
 */
function returnedPart(returned: ReturnedContent): Buffer {
  const ascii = isAscii(returned.bytes);
  if (returned.kind === 'headers') {
    const head =
      `Content-Type: text/rfc822-headers${ascii ? '' : '; charset=utf-8'}${CRLF}` +
      `Content-Transfer-Encoding: ${ascii ? '7bit' : 'base64'}${CRLF}` +
      `Content-Description: Headers of the original message${CRLF}${CRLF}`;
    return Buffer.concat([Buffer.from(head), ascii ? returned.bytes : Buffer.from(base64Lines(returned.bytes))]);
  }
  const head =
    `Content-Type: message/rfc822${CRLF}Content-Transfer-Encoding: ${ascii ? '7bit' : '8bit'}${CRLF}` +
    `Content-Description: The original message${returned.truncated ? ' (cut)' : ''}${CRLF}${CRLF}`;
  return Buffer.concat([Buffer.from(head), returned.bytes]);
}

function base64Lines(bytes: Buffer): string {
  return (bytes.toString('base64').match(/.{1,76}/g) ?? []).join(CRLF) + CRLF;
}
