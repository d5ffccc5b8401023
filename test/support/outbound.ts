/** What the outbound transport tests share: short timeouts, a message with a leading dot, an envelope. */
import { Readable } from 'node:stream';
import type { OutboundEnvelope } from '../../lib/core/outbound.ts';
import type { SmtpTimeouts } from '../../lib/outbound/transports/smtpSession.ts';

export const TEST_TIMEOUTS: SmtpTimeouts = { connectMs: 2000, greetingMs: 800, socketMs: 2000, stepMs: 5000 };
export const MESSAGE = Buffer.from(
  'From: alice@ours.test\r\nTo: bob@remote.test\r\nSubject: outbound\r\n\r\n.a line starting with a dot\r\nbody\r\n',
);
export const openMessage = async () => Readable.from([MESSAGE]);

export function envelope(recipients: string[], extra: Partial<OutboundEnvelope> = {}): OutboundEnvelope {
  return { mailFrom: 'alice@ours.test', domain: 'remote.test', recipients, ...extra };
}
