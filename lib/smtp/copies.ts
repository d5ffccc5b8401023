/**
 * The per-copy part of a delivery: one copy per recipient account (an account reached through several
 * recipients gets one copy), each with its own header prefix in front of the shared stored text.
 */
import type { FilterResult, StoreRequest } from '../pipeline/contracts.ts';
import type { Recipient } from './recipients.ts';

export type Delivery = StoreRequest['deliveries'][number];

export function deliveriesFor(recipients: readonly Recipient[], mailFrom: string, verdict: FilterResult): Delivery[] {
  const deliveries: Delivery[] = [];
  const seen = new Set<string>();
  for (const r of recipients) {
    for (const account of r.accounts) {
      if (seen.has(account.accountId)) continue;
      seen.add(account.accountId);
      deliveries.push({
        accountId: account.accountId,
        mailbox: verdict.mailbox,
        headerPrefix: copyHeaders(mailFrom, account.address, r.address, verdict.headers),
      });
    }
  }
  return deliveries;
}

/** Return-Path and Delivered-To (RFC 5321 §4.4), X-Original-To when an alias led here, then the filter's fields. */
function copyHeaders(mailFrom: string, accountAddress: string, recipient: string, filterHeaders: string): string {
  const original = recipient.toLowerCase() !== accountAddress ? `X-Original-To: ${recipient}\r\n` : '';
  return `Return-Path: <${mailFrom}>\r\nDelivered-To: ${accountAddress}\r\n${original}${filterHeaders}`;
}
