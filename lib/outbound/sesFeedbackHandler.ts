/**
 * The `sesFeedback` function: Amazon SES bounce and complaint events, as EventBridge delivers them (one event
 * per invocation) or SNS does (a Lambda SNS event with Records, or one notification), run through
 * sesFeedback.ts. An event that is not a bounce or complaint we can read is logged and acknowledged, never
 * thrown: a retry could not make it readable. Only a failure to record or report (storage, SES) throws, so
 * Lambda's bounded asynchronous retries (lib/infra/sesFeedback.ts) try again; the work is idempotent.
 */
import type { Logger } from '../core/log.ts';
import { type FeedbackDeps, handleSesFeedback, parseSesFeedback } from './sesFeedback.ts';

export interface SesFeedbackParts {
  readonly feedback: FeedbackDeps;
  readonly log: Logger;
}

export interface SesFeedbackResult {
  readonly handled: number;
  readonly reported: number;
  readonly ignored: number;
}

/** More than one SNS record per invocation is not sent by SNS today; the bound only limits a forged event. */
const MAX_RECORDS = 10;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The SES notifications in an invocation's event: the SNS records' messages, or the event itself. */
function notificationsOf(event: unknown): unknown[] {
  if (isObject(event) && Array.isArray(event.Records)) {
    return event.Records.slice(0, MAX_RECORDS).map((r) => (isObject(r) ? r.Sns : undefined));
  }
  return [event];
}

/** A few identifying fields of an unreadable event for the log, each cut short (it is untrusted input). */
function describe(body: unknown): Record<string, unknown> {
  if (!isObject(body)) return { shape: body === null ? 'null' : typeof body };
  const field = (v: unknown) => (typeof v === 'string' ? v.slice(0, 100) : undefined);
  const detail = isObject(body.detail) ? body.detail : {};
  return {
    source: field(body.source),
    detailType: field(body['detail-type']),
    type: field(body.Type),
    eventType: field(detail.eventType),
  };
}

export function sesFeedbackHandler(
  parts: SesFeedbackParts | undefined,
): (event: unknown) => Promise<SesFeedbackResult> {
  if (!parts) {
    return async () => {
      throw new Error('sesFeedback: no suppression list or DSN sender is wired into this process');
    };
  }
  return async (event) => {
    let handled = 0;
    let reported = 0;
    let ignored = 0;
    for (const body of notificationsOf(event)) {
      const feedback = parseSesFeedback(body);
      if (!feedback) {
        ignored++;
        parts.log.warn('ses event ignored: not a bounce or complaint we can read', describe(body));
        continue;
      }
      const log = parts.log.child({ sesMessageId: feedback.sesMessageId });
      const outcome = await handleSesFeedback(feedback, parts.feedback);
      handled++;
      if (outcome.reported) reported++;
      log.info('ses feedback handled', {
        kind: feedback.kind,
        detail: feedback.detail,
        recipients: feedback.recipients.length,
        suppressed: feedback.suppress,
        reported: outcome.reported,
      });
    }
    return { handled, reported, ignored };
  };
}
