/**
 * Sends one message over an open SmtpSession and reports per recipient: MAIL FROM exactly as given (the null
 * sender as `<>`), one RCPT per recipient, BODY=8BITMIME and the DSN parameters when the envelope has them.
 *
 * nodemailer takes one set of RCPT DSN parameters (NOTIFY, ORCPT) per transaction, so recipients whose
 * parameters differ go in separate transactions on the same session, one after another; each recipient is in
 * exactly one of them, so nobody gets the message twice.
 */
import type { Readable } from 'node:stream';
import type { OutboundEnvelope, RecipientDsn, RecipientOutcome } from '../../core/outbound.ts';
import { ourReply, outcome, outcomesFor } from './replies.ts';
import { type SmtpSession, withDeadline } from './smtpSession.ts';

interface SendError extends Error {
  code?: string;
  response?: string;
  command?: string;
  recipient?: string;
  rejectedErrors?: SendError[];
}

interface SendInfo {
  accepted: string[];
  rejectedErrors?: SendError[];
  response: string;
}

/** nodemailer's envelope DSN: one NOTIFY/ORCPT for every RCPT of the transaction. */
interface NodemailerDsn {
  ret?: string;
  envid?: string;
  notify?: string;
  orcpt?: string;
}

interface Group {
  readonly recipients: string[];
  readonly dsn?: NodemailerDsn;
}

/** An address nodemailer would refuse for the whole envelope (or that would inject a command). */
const UNSENDABLE = /[\r\n<>\0]|^$/;

/** Recipients grouped by identical RCPT DSN parameters, in their original order. */
export function dsnGroups(envelope: OutboundEnvelope, recipients: readonly string[]): Group[] {
  const dsn = envelope.dsn;
  const groups = new Map<string, Group>();
  for (const address of recipients) {
    const own: RecipientDsn | undefined = dsn?.recipients?.[address];
    const notify = own?.notify === undefined ? undefined : own.notify.length === 0 ? 'NEVER' : own.notify.join(',');
    const key = JSON.stringify([notify, own?.orcpt]);
    let group = groups.get(key);
    if (!group) {
      const params: NodemailerDsn = { ret: dsn?.ret, envid: dsn?.envId, notify, orcpt: own?.orcpt };
      const given = Object.values(params).some((v) => v !== undefined);
      group = { recipients: [], dsn: given ? params : undefined };
      groups.set(key, group);
    }
    group.recipients.push(address);
  }
  return [...groups.values()];
}

/** What the server's replies, or the lack of them, mean for each recipient of one transaction. */
function outcomesOfError(session: SmtpSession, recipients: readonly string[], err: SendError): RecipientOutcome[] {
  const label = session.label;
  const perRecipient = new Map<string, string>();
  for (const e of err.rejectedErrors ?? rejectedAtRcpt(session)) {
    if (e.recipient && e.response) perRecipient.set(e.recipient, e.response);
  }
  // nodemailer refuses locally, before MAIL, a message larger than the server's SIZE (RFC 1870 §6.1).
  if (err.code === 'EMESSAGE' && err.command === 'MAIL FROM' && !err.response) {
    return outcomesFor(recipients, ourReply.tooBig(label, err.message), label);
  }
  const smtpAnswer = err.response && ['MAIL FROM', 'RCPT TO', 'DATA'].includes(err.command ?? '');
  if (!smtpAnswer) session.markBroken();
  const whole = smtpAnswer
    ? err.response!
    : err.code === 'ESTREAM'
      ? ourReply.internal(`reading the message failed: ${err.message}`)
      : ourReply.badConnection(label, err.message);
  return recipients.map((r) => outcome(r, (smtpAnswer && perRecipient.get(r)) || whole, label));
}

/**
 * RCPT refusals when the DATA step failed afterwards: nodemailer keeps them only on the connection's envelope
 * (it reads them from there itself for LMTP). Without them the DATA reply stands for every recipient.
 */
function rejectedAtRcpt(session: SmtpSession): SendError[] {
  const internal = session.connection as unknown as { _envelope?: { rejectedErrors?: SendError[] } };
  return internal._envelope?.rejectedErrors ?? [];
}

async function sendGroup(
  session: SmtpSession,
  envelope: OutboundEnvelope,
  group: Group,
  open: () => Promise<Readable>,
  size: number,
): Promise<RecipientOutcome[]> {
  const label = session.label;
  let message: Readable;
  try {
    message = await open();
  } catch (err) {
    return outcomesFor(group.recipients, ourReply.internal(`opening the message failed: ${(err as Error).message}`));
  }
  const smtpEnvelope = {
    from: envelope.mailFrom,
    to: group.recipients,
    size,
    use8BitMime: envelope.eightBit === true,
    ...(group.dsn ? { dsn: group.dsn } : {}),
  };
  session.transactions += 1;
  session.lastUsedAt = Date.now();
  try {
    const info = await withDeadline<SendInfo>(
      session.connection,
      session.peer.timeouts.stepMs,
      'the transaction',
      (done) => session.connection.send(smtpEnvelope, message, (err, sent) => done(err, sent as SendInfo | undefined)),
    );
    const refused = new Map((info.rejectedErrors ?? []).map((e) => [e.recipient, e.response ?? '']));
    // RFC 3461 §6.2.6.1: a next hop that took the DSN parameters reports success itself; we then do not
    const handedOn = group.dsn !== undefined && session.extensions.has('DSN');
    return group.recipients.map((r) => {
      const o = outcome(r, refused.get(r) || info.response, label);
      return handedOn && o.result === 'delivered' ? { ...o, handedTo: 'dsn-relay' as const } : o;
    });
  } catch (err) {
    message.destroy();
    const outcomes = outcomesOfError(session, group.recipients, err as SendError);
    // A refused envelope may leave a transaction open (MAIL accepted, every RCPT refused): end it.
    if (session.usable) await session.reset();
    return outcomes;
  }
}

/** Refusals we make before sending: the next hop lacks an extension the message needs, or an address is unusable. */
function refusedBeforeSending(session: SmtpSession, envelope: OutboundEnvelope, address: string): string | undefined {
  if (UNSENDABLE.test(address)) return `501 5.1.3 Bad recipient address syntax: ${JSON.stringify(address)}`;
  if (envelope.eightBit && !session.extensions.has('8BITMIME')) return ourReply.no8BitMime(session.label);
  if (envelope.smtpUtf8 && !session.extensions.has('SMTPUTF8')) return ourReply.noSmtpUtf8(session.label);
  return undefined;
}

/**
 * Sends the message to `recipients` over `session`. Recipients left when the session breaks half way get
 * `451 4.4.2`; the session is then unusable (session.usable).
 */
export async function sendMessage(
  session: SmtpSession,
  envelope: OutboundEnvelope,
  recipients: readonly string[],
  open: () => Promise<Readable>,
  size: number,
): Promise<RecipientOutcome[]> {
  const label = session.label;
  if (UNSENDABLE.test(envelope.mailFrom) && envelope.mailFrom !== '') {
    return outcomesFor(recipients, `501 5.1.7 Bad sender address syntax: ${JSON.stringify(envelope.mailFrom)}`);
  }
  const outcomes: RecipientOutcome[] = [];
  const sendable: string[] = [];
  for (const address of recipients) {
    const refusal = refusedBeforeSending(session, envelope, address);
    if (refusal) outcomes.push(outcome(address, refusal, label));
    else sendable.push(address);
  }
  for (const group of dsnGroups(envelope, sendable)) {
    if (!session.usable) {
      outcomes.push(...outcomesFor(group.recipients, ourReply.badConnection(label, 'connection closed'), label));
      continue;
    }
    outcomes.push(...(await sendGroup(session, envelope, group, open, size)));
  }
  return outcomes;
}
