/**
 * The Amazon SES transport: SESv2 SendEmail with the raw message (Content.Raw), the envelope recipients as
 * Destination (SES sends to those, not to the header fields), at most 50 per call as SES allows. The default
 * in AWS, where outbound port 25 is blocked and Fargate has no stable address for SPF.
 *
 * Replies are SMTP-shaped so the queue and the DSNs treat SES like any next hop: throttling, service errors
 * and an account that cannot send for now are 4xx (deferred, retried by the queue); a rejected message or an
 * unverified sending domain is 5xx (failed, the sender gets a DSN). SES takes no DSN parameters, so a success
 * is 'relayed' for NOTIFY=SUCCESS (RecipientOutcome.handedTo stays unset).
 */
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { domainToASCII } from 'node:url';
import { SESv2Client, SESv2ServiceException, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { AwsEndpoints } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import type { OutboundEnvelope, RecipientOutcome, Transport } from '../../core/outbound.ts';
import { LOCAL_CREDENTIALS } from './clients.ts';

/** SES API v2's message size quota. */
export const SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024;
/** SES's limit of recipients per SendEmail call. */
const MAX_RECIPIENTS_PER_CALL = 50;
/** Throttled calls are retried here a few times (SES sent nothing), then deferred to the queue. */
const THROTTLE_RETRIES = [200, 800, 2000];

export interface SesTransportOptions {
  readonly client: SESv2Client;
  /** For Remote-MTA in DSNs: the SES endpoint host, e.g. email.eu-west-1.amazonaws.com. */
  readonly remoteMta: string;
  readonly configurationSet?: string;
  readonly maxMessageBytes?: number;
  readonly log?: Logger;
  /** Waits between throttled retries (tests shorten them). */
  readonly throttleRetriesMs?: readonly number[];
}

/**
 * A client for SESv2: the default credential chain in AWS; with an endpoint (the tests' stand-in), the local
 * key pair. One attempt per call: SendEmail is not idempotent, so a timeout or 5xx after which SES may have
 * sent is left to the queue's retry rather than repeated at once; only throttling is retried here.
 */
export function makeSesClient(endpoints: AwsEndpoints & { readonly ses?: string }): SESv2Client {
  const client = new SESv2Client({
    region: endpoints.region ?? 'us-east-1',
    endpoint: endpoints.ses,
    credentials: endpoints.ses && !process.env.AWS_ACCESS_KEY_ID ? LOCAL_CREDENTIALS : undefined,
    maxAttempts: 1,
  });
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

/** SES's host for a region, as Remote-MTA. */
export function sesRemoteMta(region: string | undefined): string {
  return `email.${region ?? 'us-east-1'}.amazonaws.com`;
}

/** The transport for POSTERN_OUTBOUND_TRANSPORT=ses: a client for the region (or the stand-in's endpoint). */
export function createSesTransport(
  endpoints: AwsEndpoints & { readonly ses?: string },
  options: Omit<SesTransportOptions, 'client' | 'remoteMta'> = {},
): SesTransport {
  return new SesTransport({ ...options, client: makeSesClient(endpoints), remoteMta: sesRemoteMta(endpoints.region) });
}

export class SesTransport implements Transport {
  readonly name = 'ses';
  private readonly maxBytes: number;

  constructor(private readonly options: SesTransportOptions) {
    this.maxBytes = options.maxMessageBytes ?? SES_MAX_MESSAGE_BYTES;
  }

  async deliver(envelope: OutboundEnvelope, open: () => Promise<Readable>, size: number): Promise<RecipientOutcome[]> {
    const tooBig = `552 5.3.4 Message too big for Amazon SES (limit ${this.maxBytes} octets)`;
    if (size > this.maxBytes) return this.all(envelope.recipients, 'failed', tooBig);
    // SES has no SMTPUTF8: a non-ASCII local part cannot be sent (RFC 6531 §3.7.5, X.6.7).
    const sender = asciiAddress(envelope.mailFrom);
    if (sender === undefined) {
      return this.all(envelope.recipients, 'failed', '553 5.6.7 Amazon SES cannot send from a non-ASCII address');
    }
    const data = await readAtMost(await open(), this.maxBytes);
    if (data === undefined) return this.all(envelope.recipients, 'failed', tooBig);
    const outcomes: RecipientOutcome[] = [];
    const sendable: { address: string; ascii: string }[] = [];
    for (const address of envelope.recipients) {
      const ascii = asciiAddress(address);
      if (ascii) sendable.push({ address, ascii });
      else outcomes.push(this.outcome(address, 'failed', '553 5.6.7 Amazon SES cannot send to a non-ASCII address'));
    }
    for (let i = 0; i < sendable.length; i += MAX_RECIPIENTS_PER_CALL) {
      const batch = sendable.slice(i, i + MAX_RECIPIENTS_PER_CALL);
      const { result, reply } = await this.send(
        sender,
        batch.map((r) => r.ascii),
        data,
      );
      outcomes.push(...batch.map((r) => this.outcome(r.address, result, reply)));
    }
    return outcomes;
  }

  private async send(
    sender: string,
    recipients: string[],
    data: Uint8Array,
  ): Promise<Omit<RecipientOutcome, 'address'>> {
    const command = new SendEmailCommand({
      // '' is the null sender (our DSNs): SES then takes the From header field, MAILER-DAEMON@ our host.
      FromEmailAddress: sender || undefined,
      FeedbackForwardingEmailAddress: sender || undefined,
      Destination: { ToAddresses: recipients },
      Content: { Raw: { Data: data } },
      ConfigurationSetName: this.options.configurationSet,
    });
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await this.options.client.send(command);
        return { result: 'delivered', reply: `250 2.0.0 Ok: queued as ${out.MessageId ?? 'unknown'}` };
      } catch (err) {
        const mapped = sesErrorReply(err);
        const wait = (this.options.throttleRetriesMs ?? THROTTLE_RETRIES)[attempt];
        if (mapped.throttled && wait !== undefined) {
          await sleep(wait);
          continue;
        }
        this.options.log?.warn('ses send failed', { err, reply: mapped.reply, recipients: recipients.length });
        return mapped;
      }
    }
  }

  private outcome(address: string, result: RecipientOutcome['result'], reply: string): RecipientOutcome {
    return { address, result, reply, remoteMta: this.options.remoteMta };
  }

  private all(recipients: readonly string[], result: RecipientOutcome['result'], reply: string): RecipientOutcome[] {
    return recipients.map((address) => this.outcome(address, result, reply));
  }
}

/** The address with its domain as A-labels; undefined when the local part is not ASCII. '' stays ''. */
function asciiAddress(address: string): string | undefined {
  if (address === '') return '';
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  if (at <= 0 || /[^\x21-\x7e]/.test(local)) return undefined;
  const domain = domainToASCII(address.slice(at + 1));
  return domain ? `${local}@${domain}` : undefined;
}

/** The whole message, or undefined as soon as it grows beyond `limit` (the size field is not trusted). */
async function readAtMost(stream: Readable, limit: number): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > limit) return undefined;
      chunks.push(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

const clean = (text: string) => text.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 300);

/** An SES or network error as an SMTP reply and its queue result. */
export function sesErrorReply(err: unknown): Omit<RecipientOutcome, 'address'> & { throttled: boolean } {
  const name = err instanceof Error ? err.name : 'Error';
  const message = clean(err instanceof Error ? err.message : String(err));
  const status = err instanceof SESv2ServiceException ? err.$metadata.httpStatusCode : undefined;
  const deferred = (reply: string, throttled = false) => ({ result: 'deferred' as const, reply, throttled });
  const failed = (reply: string) => ({ result: 'failed' as const, reply, throttled: false });
  switch (name) {
    case 'MessageRejected':
      return failed(`554 5.6.0 Amazon SES rejected the message: ${message}`);
    case 'MailFromDomainNotVerifiedException':
      return failed(`550 5.7.1 Sending domain not verified in Amazon SES: ${message}`);
    case 'BadRequestException':
      return failed(`554 5.5.4 Amazon SES refused the request: ${message}`);
    case 'TooManyRequestsException':
    case 'LimitExceededException':
      return deferred(`451 4.7.0 Amazon SES throttled sending: ${message}`, true);
    case 'AccountSuspendedException':
    case 'SendingPausedException':
      // The operator's to fix; the queue keeps the mail meanwhile.
      return deferred(`451 4.7.0 Amazon SES sending is paused for this account: ${message}`);
  }
  if (status !== undefined && status >= 500)
    return deferred(`451 4.3.0 Amazon SES service error (${status}): ${message}`);
  if (status === undefined) return deferred(`451 4.4.1 No answer from Amazon SES: ${message}`);
  return deferred(`451 4.3.0 Amazon SES error ${name} (${status}): ${message}`);
}
