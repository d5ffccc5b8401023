/**
 * The events and results of the mail-logic functions. They cross a Lambda invocation, so they are plain JSON
 * (no Buffers, Dates or class instances) and small: a function gets the S3 key of a message, never its body
 * (Lambda payloads are capped at 6 MB).
 */
import type { ArcSealInput } from '../core/outbound.ts';
import type { MessageSummary } from '../mime/summary.ts';

// ---------------------------------------------------------------- route

export interface RouteRequest {
  /** The RCPT TO address as the client wrote it (smtp-server has removed any source route). */
  readonly recipient: string;
  /** Our host name: a bare `postmaster` (RFC 5321 §4.1.1.3) goes to postmaster@ the first of its parent domains we serve. */
  readonly hostname?: string;
}

export interface RoutedAccount {
  readonly accountId: string;
  /** The account's primary address (Delivered-To). */
  readonly address: string;
  /** Bytes; 0 means unlimited. */
  readonly quotaBytes: number;
}

export type RouteResult =
  /** Deliver to these local accounts (an alias may fan out to several); remote alias targets are listed apart. */
  | {
      readonly kind: 'local';
      readonly accounts: readonly RoutedAccount[];
      readonly accountIds: readonly string[];
      readonly remote: readonly string[];
    }
  /** The domain is ours but nobody has this address. */
  | { readonly kind: 'unknown-user' }
  /** The domain is not ours (or the address is a literal): relaying is denied. */
  | { readonly kind: 'not-local' }
  /** Not a usable address at all. */
  | { readonly kind: 'invalid' };

// ---------------------------------------------------------------- filter

export interface FilterRequest {
  /** The transaction's id (also the blob's name). */
  readonly messageId: string;
  readonly blobKey: string;
  readonly blobSize: number;
  /** MAIL FROM ('' for the null sender). */
  readonly mailFrom: string;
  readonly helo: string;
  readonly clientIp: string;
  readonly recipients: readonly string[];
  /** Our authserv-id for Authentication-Results (the gateway's host name). */
  readonly authservId: string;
}

export interface SpamVerdict {
  readonly score: number;
  readonly threshold: number;
  readonly tests: readonly string[];
}

export interface FilterResult {
  /** deliver: store it (into `mailbox`); reject: answer `reply` and store nothing. */
  readonly action: 'deliver' | 'reject';
  readonly reply?: { readonly code: number; readonly enhanced: string; readonly text: string };
  /** Why a rejected message was refused (counted in MessagesRejected). */
  readonly rejected?: 'virus' | 'dmarc' | 'spam';
  readonly mailbox: 'INBOX' | 'Junk';
  /** Header fields for the front of every copy (Authentication-Results, X-Spam-*), CRLF-terminated. */
  readonly headers: string;
  readonly spam: SpamVerdict;
  readonly virus: { readonly infected: boolean; readonly name?: string };
  readonly dmarc?: { readonly result: string; readonly policy?: string; readonly domain?: string };
  /** The IMAP summary of the stored object, computed in the same read. */
  readonly summary?: MessageSummary;
  /** For the ARC set of a forwarded copy; absent when the message's ARC chain failed (not sealed again). */
  readonly arc?: ArcSealInput;
}

// ---------------------------------------------------------------- store

export interface Delivery {
  readonly accountId: string;
  /** Mailbox name; INBOX by default. */
  readonly mailbox?: string;
  /** This copy's header lines (Return-Path, Delivered-To, the filter's fields), CRLF-terminated. */
  readonly headerPrefix: string;
}

export interface StoreRequest {
  /** The transaction's id. */
  readonly messageId: string;
  /**
   * Makes delivery exactly-once: per account and mailbox, a second store with the same key returns the first
   * copy (the gateway derives it from the envelope sender and the message text, see lib/delivery/targets.ts).
   */
  readonly idempotencyKey: string;
  readonly blobKey: string;
  readonly blobSize: number;
  readonly internalDate: number;
  /** The blob's IMAP summary; computed here from the blob when absent. */
  readonly summary?: MessageSummary;
  readonly deliveries: readonly Delivery[];
}

export interface StoreResult {
  readonly delivered: readonly {
    readonly accountId: string;
    readonly mailbox: string;
    readonly uid: number;
    readonly duplicate: boolean;
    /** The object the copy is served from: this request's blob, or an earlier one for a duplicate. */
    readonly blobKey: string;
  }[];
  /**
   * Recipients that could not take the message: 'quota' (the transaction is answered 452 4.2.2), or
   * 'temporary' (storage failed for this request within a batch; the gateway retries, then answers 451).
   */
  readonly failed: readonly { readonly accountId: string; readonly reason: 'quota' | 'no-account' | 'temporary' }[];
}

/**
 * What the store function is invoked with: several messages at once, so that messages for one mailbox that
 * arrive together are written in one group commit (one transaction) instead of racing each other.
 */
export interface StoreBatchRequest {
  readonly requests: readonly StoreRequest[];
}

export interface StoreBatchResult {
  /** One result per request, in order. */
  readonly results: readonly StoreResult[];
}
