/**
 * The notify function's work: DynamoDB Streams records of the changes table → one notice per mailbox (the
 * highest modseq of the batch) → every live gateway task, one UDP send each. The Lambda entry
 * (functions/notify) and the emulator's stream poller (local/changeStreamPoller.ts) both call this.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Logger } from '../../core/log.ts';
import type { ChangeKind } from '../../core/ports.ts';
import { type ChangeNotice, coalesceNotices, encodeNotices } from '../changeFeedNotice.ts';
import type { GatewayPresence } from './changeFeedPresence.ts';
import { fromAttr } from './dynamo.ts';

/** The part of a stream record we read: the same shape in a Lambda event and in GetRecords. */
export interface ChangeStreamRecord {
  readonly eventName?: string;
  readonly dynamodb?: { readonly NewImage?: Record<string, unknown> };
}

export interface RelayDeps {
  readonly presence: { live(): Promise<GatewayPresence[]> };
  readonly sender: { send(address: string, port: number, datagrams: readonly Buffer[]): Promise<Error | undefined> };
  readonly log?: Logger;
}

export interface RelayResult {
  readonly notices: number;
  readonly gateways: number;
  /** Gateways whose send failed (the notice is lost for them; their backstop catches up). */
  readonly failed: number;
}

/** The change record an INSERT carries; REMOVE (TTL expiry) and anything unreadable is no news. */
function noticeOf(record: ChangeStreamRecord): ChangeNotice | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const item = fromAttr(record.dynamodb.NewImage as Record<string, AttributeValue>) as {
    mailboxId?: unknown;
    modseq?: unknown;
    kind?: unknown;
  };
  if (typeof item.mailboxId !== 'string' || typeof item.modseq !== 'number') return undefined;
  // the partition is `<accountId>#<mailboxId>`; mailbox ids never hold '#'
  const cut = item.mailboxId.lastIndexOf('#');
  if (cut <= 0) return undefined;
  return {
    accountId: item.mailboxId.slice(0, cut),
    mailboxId: item.mailboxId.slice(cut + 1),
    modseq: item.modseq,
    kind: item.kind as ChangeKind,
  };
}

export function noticesOfRecords(records: readonly ChangeStreamRecord[]): ChangeNotice[] {
  return coalesceNotices(records.map(noticeOf).filter((n): n is ChangeNotice => n !== undefined));
}

/**
 * Relays a batch. Never throws for a gateway that cannot be reached (a retry would only repeat the sends that
 * worked); throws when the presence records cannot be read, so the event source retries the batch.
 */
export async function relayChanges(records: readonly ChangeStreamRecord[], deps: RelayDeps): Promise<RelayResult> {
  const notices = noticesOfRecords(records);
  if (notices.length === 0) return { notices: 0, gateways: 0, failed: 0 };
  const datagrams = encodeNotices(notices);
  const gateways = await deps.presence.live();
  const errors = await Promise.all(gateways.map((g) => deps.sender.send(g.address, g.port, datagrams)));
  const failed = errors.filter((e) => e !== undefined).length;
  if (failed > 0) deps.log?.warn('notice sends failed', { failed, gateways: gateways.length });
  return { notices: notices.length, gateways: gateways.length, failed };
}
