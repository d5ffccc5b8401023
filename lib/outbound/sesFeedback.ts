/**
 * Amazon SES bounce and complaint events (from SNS or EventBridge) turned into what Postern does about them:
 * a suppression entry for each recipient that bounced permanently or complained, and, for a bounce, an RFC 3464
 * DSN to the sender through reportOutcome, as if the queue's own attempt had failed. Pure parsing of untrusted
 * JSON (fields checked, unknown ones ignored, as SES reserves the right to add some); no SDK here.
 */
import { Readable } from 'node:stream';
import type { AttemptRecord, QueuedRecipient, QueueEntry, RecipientOutcome } from '../core/outbound.ts';
import { type ReportDeps, reportOutcome } from './dsnReport.ts';

export interface SesFeedbackRecipient {
  readonly address: string;
  /** Enhanced status code SES reports (`5.1.1`), when it has one. */
  readonly status?: string;
  /** `smtp; 550 5.1.1 ...` as SES got it, when it has one. */
  readonly diagnosticCode?: string;
}

export interface SesFeedback {
  readonly kind: 'bounce' | 'complaint';
  /** Permanent bounce or complaint: the address goes on the suppression list. */
  readonly suppress: boolean;
  readonly sesMessageId: string;
  /** The sender SES saw (our envelope sender, or the From field for the null sender). */
  readonly source: string;
  readonly sentAt: number;
  readonly recipients: readonly SesFeedbackRecipient[];
  readonly reportingMta?: string;
  /** The original header fields SES kept (when the configuration set includes them). */
  readonly headers: readonly { readonly name: string; readonly value: string }[];
  readonly detail: string;
}

export type SuppressionReason = 'bounce' | 'complaint';

/** Addresses we must not send to again (SES's account-level list in AWS). */
export interface SuppressionList {
  /** Idempotent: adding an address twice keeps one entry. */
  add(address: string, reason: SuppressionReason): Promise<void>;
}

const MAX_RECIPIENTS = 100;
const MAX_HEADERS = 200;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max = 1000): string | undefined => (typeof v === 'string' ? v.slice(0, max) : undefined);

/** The SES event record inside an SNS notification (Message is a JSON string) or an EventBridge event (detail). */
function sesRecord(body: unknown): Json | undefined {
  if (!isObject(body)) return undefined;
  if (body.Type === 'Notification' && typeof body.Message === 'string') {
    try {
      return sesRecord(JSON.parse(body.Message));
    } catch {
      return undefined;
    }
  }
  if (body.source === 'aws.ses' && isObject(body.detail)) return body.detail;
  return isObject(body.mail) ? body : undefined;
}

function recipientsOf(list: unknown): SesFeedbackRecipient[] {
  if (!Array.isArray(list)) return [];
  return list.slice(0, MAX_RECIPIENTS).flatMap((r) => {
    const address = isObject(r) ? str(r.emailAddress, 320) : undefined;
    if (!address || !isObject(r)) return [];
    return [{ address, status: str(r.status, 20), diagnosticCode: str(r.diagnosticCode) }];
  });
}

function headersOf(mail: Json): { name: string; value: string }[] {
  if (!Array.isArray(mail.headers)) return [];
  return mail.headers.slice(0, MAX_HEADERS).flatMap((h) => {
    const name = isObject(h) ? str(h.name, 100) : undefined;
    const value = isObject(h) ? str(h.value, 2000) : undefined;
    return name && value !== undefined && /^[\x21-\x39\x3b-\x7e]+$/.test(name) ? [{ name, value }] : [];
  });
}

/** The bounce or complaint in an SES event; undefined for any other event (deliveries, opens ...) or junk. */
export function parseSesFeedback(body: unknown): SesFeedback | undefined {
  const record = sesRecord(body);
  if (!record || !isObject(record.mail)) return undefined;
  const type = str(record.eventType) ?? str(record.notificationType);
  const mail = record.mail;
  const sesMessageId = str(mail.messageId, 200);
  const source = str(mail.source, 320);
  const sentAt = Date.parse(str(mail.timestamp) ?? '');
  if (!sesMessageId || source === undefined || Number.isNaN(sentAt)) return undefined;
  const common = { sesMessageId, source, sentAt, headers: headersOf(mail) };
  if (type === 'Bounce' && isObject(record.bounce)) {
    const bounceType = str(record.bounce.bounceType) ?? 'Undetermined';
    return {
      ...common,
      kind: 'bounce',
      suppress: bounceType === 'Permanent',
      recipients: recipientsOf(record.bounce.bouncedRecipients),
      reportingMta: str(record.bounce.reportingMTA, 300)?.replace(/^dns;\s*/i, ''),
      detail: `${bounceType}/${str(record.bounce.bounceSubType) ?? 'General'}`,
    };
  }
  if (type === 'Complaint' && isObject(record.complaint)) {
    return {
      ...common,
      kind: 'complaint',
      suppress: true,
      recipients: recipientsOf(record.complaint.complainedRecipients),
      detail: str(record.complaint.complaintFeedbackType) ?? 'complaint',
    };
  }
  return undefined;
}

/** SES gives our own DSNs MAILER-DAEMON as their source: a bounce of a bounce is never reported. */
const isNullSender = (source: string) => source === '' || /^mailer-daemon@/i.test(source);

/** The bounce as a queue entry and a failed attempt, so reportOutcome builds the DSN as for any failure. */
function asFailedAttempt(feedback: SesFeedback): { entry: QueueEntry; attempt: AttemptRecord } {
  const recipients: QueuedRecipient[] = feedback.recipients.map((r) => ({
    address: r.address,
    status: 'scheduled',
    attempts: 1,
  }));
  const outcomes: RecipientOutcome[] = feedback.recipients.map((r) => ({
    address: r.address,
    result: 'failed',
    reply: bounceReply(r),
    remoteMta: feedback.reportingMta,
  }));
  const entry: QueueEntry = {
    id: `ses:${feedback.sesMessageId}`,
    domain: '',
    mailFrom: isNullSender(feedback.source) ? '' : feedback.source,
    blobKey: '',
    headerPrefix: '',
    size: 0,
    createdAt: feedback.sentAt,
    nextAttemptAt: feedback.sentAt,
    attempts: 1,
    recipients,
  };
  return { entry, attempt: { at: feedback.sentAt, outcomes, nextAttemptAt: feedback.sentAt } };
}

/** SES's diagnostic code as a reply line (`smtp; 550 5.1.1 x` → `550 5.1.1 x`), else one from its status. */
function bounceReply(r: SesFeedbackRecipient): string {
  const reply = r.diagnosticCode?.replace(/^smtp;\s*/i, '').trim();
  if (reply && /^[45]\d\d\b/.test(reply)) return reply;
  const status = r.status && /^5\.\d{1,3}\.\d{1,3}$/.test(r.status) ? r.status : '5.0.0';
  return `550 ${status} Amazon SES reported a bounce${reply ? `: ${reply}` : ''}`;
}

export interface FeedbackDeps {
  readonly suppressions: SuppressionList;
  /** As for the queue's reports; openMessage is replaced by the header fields SES kept. */
  readonly report: Omit<ReportDeps, 'openMessage'>;
}

/**
 * Records suppressions, then reports a bounce to its sender. Idempotent as a whole: SNS and EventBridge
 * deliver at least once, the suppression list keeps one entry per address and the DSN's key is derived
 * from the SES message id and the recipients, so a redelivered event changes nothing. NOTIFY and RET of the
 * original are not known here (SES does not carry them), so the defaults apply: failures are reported, with
 * the headers.
 */
export async function handleSesFeedback(feedback: SesFeedback, deps: FeedbackDeps): Promise<{ reported: boolean }> {
  if (feedback.suppress) {
    for (const r of feedback.recipients) await deps.suppressions.add(r.address.toLowerCase(), feedback.kind);
  }
  if (feedback.kind !== 'bounce' || feedback.recipients.length === 0) return { reported: false };
  const { entry, attempt } = asFailedAttempt(feedback);
  const headers = feedback.headers.map((h) => `${h.name}: ${h.value.replace(/[\r\n]+/g, ' ')}\r\n`).join('');
  const openMessage = async () => Readable.from([Buffer.from(`${headers}\r\n`)]);
  const { reports } = await reportOutcome(entry, attempt, { ...deps.report, openMessage });
  return { reported: reports.length > 0 };
}
