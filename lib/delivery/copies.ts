/**
 * The per-copy part of a local delivery: one copy per recipient account (an account reached through several
 * recipients gets one copy), each with its own header prefix in front of the shared stored text.
 */
import type { StoreRequest } from '../pipeline/contracts.ts';
import type { LocalRecipient } from './types.ts';

export type Delivery = StoreRequest['deliveries'][number];

/** Where the copies go and what follows the trace fields (the filter's fields on the MX, added ones on submission). */
export interface CopyPlacement {
  readonly mailbox: string;
  readonly headers: string;
}

export function deliveriesFor(
  recipients: readonly LocalRecipient[],
  mailFrom: string,
  placement: CopyPlacement,
): Delivery[] {
  const deliveries: Delivery[] = [];
  const seen = new Set<string>();
  for (const r of recipients) {
    for (const account of r.accounts) {
      if (seen.has(account.accountId)) continue;
      seen.add(account.accountId);
      deliveries.push({
        accountId: account.accountId,
        mailbox: placement.mailbox,
        headerPrefix: copyHeaders(mailFrom, account.address, r.address, placement.headers),
      });
    }
  }
  return deliveries;
}

/** Return-Path and Delivered-To (RFC 5321 §4.4), X-Original-To when an alias led here, then the given fields. */
function copyHeaders(mailFrom: string, accountAddress: string, recipient: string, headers: string): string {
  const original = recipient.toLowerCase() !== accountAddress ? `X-Original-To: ${recipient}\r\n` : '';
  return `Return-Path: <${mailFrom}>\r\nDelivered-To: ${accountAddress}\r\n${original}${headers}`;
}
