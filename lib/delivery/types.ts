/**
 * The one ingestion path after the message text is in the blob store, for every way mail comes in (the MX,
 * submission, the system's own DSNs). Shaped like maddy's DeliveryTarget: the caller builds one target per
 * kind of recipient (local mailboxes, the outbound queue), each gets the accepted message and commits it, and
 * the message is accepted only when every target has committed. Each target is idempotent under the message's
 * idempotency key, so committing again after a partial failure (the client's retry after 451) completes what
 * was missing and doubles nothing.
 */
import { parseAddress } from '../core/address.ts';
import type { ArcSealInput, MessageDsn, RecipientDsn } from '../core/outbound.ts';
import type { RoutedAccount } from '../pipeline/contracts.ts';

/** A message whose text is durably in the blob store. */
export interface AcceptedMessage {
  /** The transaction's id (ULID; also the blob's name). */
  readonly messageId: string;
  readonly blobKey: string;
  readonly blobSize: number;
  /** Reverse path; '' for the null sender. */
  readonly mailFrom: string;
  /** Same for a retried transaction of the same message: SHA-256 of the envelope sender and the text as sent. */
  readonly idempotencyKey: string;
  readonly internalDate: number;
}

/** A recipient delivered to our own mailboxes (an alias may reach several accounts). */
export interface LocalRecipient {
  readonly address: string;
  readonly accounts: readonly RoutedAccount[];
}

/** A recipient in a domain we do not serve: it goes to the outbound queue. */
export interface RemoteRecipient extends RecipientDsn {
  readonly address: string;
  /** Lower case, A-labels. */
  readonly domain: string;
  /** This copy's envelope sender when it is not the message's: a forwarded copy's SRS address (srs.ts). */
  readonly mailFrom?: string;
}

export type TargetOutcome =
  /** `blobUsed`: false when everything this target holds was already there from an earlier transaction. */
  | { readonly kind: 'committed'; readonly blobUsed: boolean }
  /** 'quota': a mailbox is full (SMTP 452 4.2.2); 'temporary': try again later (451). */
  | { readonly kind: 'failed'; readonly reason: 'quota' | 'temporary' };

export interface DeliveryTarget {
  readonly name: string;
  /** Never throws: a failure is an outcome. */
  commit(message: AcceptedMessage): Promise<TargetOutcome>;
}

export type DeliveryOutcome =
  | { readonly kind: 'accepted'; readonly blobUsed: boolean }
  | { readonly kind: 'failed'; readonly reason: 'quota' | 'temporary' };

/** What a submission adds to a message besides its recipients. */
export interface OutboundOptions extends MessageDsn {
  /** Fields in front of the blob for every copy and queue entry (Date, Message-ID added by submission). */
  readonly headerPrefix: string;
  readonly accountId?: string;
  /** Forwarded copies: the ARC set the deliver step adds (RFC 8617). */
  readonly arcSeal?: ArcSealInput;
  /** BODY=8BITMIME / SMTPUTF8 of the transaction, kept in each queue entry for the next hop. */
  readonly eightBit?: boolean;
  readonly smtpUtf8?: boolean;
}

/** The remote recipient for an address outside our domains: the domain normalised, the local part as written. */
export function remoteRecipient(address: string): RemoteRecipient {
  const { domain } = parseAddress(address); // throws InvalidInputError for anything but a mailbox address
  return { address: `${address.slice(0, address.lastIndexOf('@'))}@${domain}`, domain };
}
