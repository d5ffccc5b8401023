/**
 * Outbound mail ports: the durable queue, the transports that hand a message to the next hop, DKIM keys and
 * signing, and the sink for messages the system itself writes (DSNs). The AWS adapters live in
 * lib/storage/aws; the logic that uses them (submission, the queue runner, DSN building) in lib/outbound and
 * lib/smtp, and never imports the AWS SDK.
 *
 * Shape of the model (as Stalwart's queue and maddy's): one queue entry per message and destination domain,
 * with a state per recipient, so a slow domain never holds up another and a retry sends only to the
 * recipients still pending.
 */
import type { Readable } from 'node:stream';

// ---------------------------------------------------------------- DSN parameters (RFC 3461)

/** NOTIFY of RCPT TO; undefined means the default (FAILURE and DELAY). */
export type DsnNotify = 'SUCCESS' | 'FAILURE' | 'DELAY';

export interface RecipientDsn {
  /** NOTIFY=NEVER is the empty list. */
  readonly notify?: readonly DsnNotify[];
  /** ORCPT as given, `addr-type;xtext-decoded address`. */
  readonly orcpt?: string;
}

export interface MessageDsn {
  /** ENVID of MAIL FROM, xtext-decoded. */
  readonly envId?: string;
  /** RET of MAIL FROM: what a failure report returns of the message. */
  readonly ret?: 'FULL' | 'HDRS';
}

// ---------------------------------------------------------------- the queue

export type RecipientStatus = 'scheduled' | 'delivered' | 'deferred' | 'failed';

export interface QueuedRecipient extends RecipientDsn {
  readonly address: string;
  readonly status: RecipientStatus;
  readonly attempts: number;
  /** The last reply for this recipient, e.g. `451 4.7.1 try later` (ours when no server answered). */
  readonly lastReply?: string;
  readonly lastAttemptAt?: number;
  /** The host that gave lastReply. */
  readonly remoteMta?: string;
}

/** Whether a recipient still waits for an attempt (scheduled or deferred). */
export function isPendingRecipient(r: { readonly status: RecipientStatus }): boolean {
  return r.status === 'scheduled' || r.status === 'deferred';
}

export interface QueueEntryInput extends MessageDsn {
  /** ULID; also names the entry in `admin queue show`. */
  readonly id: string;
  /** Destination domain, lower case (A-labels): all recipients share it. */
  readonly domain: string;
  /** Reverse path; '' for the null sender (DSNs). */
  readonly mailFrom: string;
  /** The message as accepted, in S3. */
  readonly blobKey: string;
  /** Header fields sent in front of the blob (DKIM-Signature ...), CRLF-terminated; '' for none. */
  readonly headerPrefix: string;
  /** Octets of headerPrefix and blob together. */
  readonly size: number;
  readonly recipients: readonly ({ readonly address: string } & RecipientDsn)[];
  /** The authenticated account that submitted it (absent for forwarding and DSNs). */
  readonly accountId?: string;
  /**
   * Where reports (DSNs) about this entry go when not to mailFrom: a forwarded copy's original sender, whom
   * its SRS mailFrom stands for (the deliver step holds no SRS secret to reverse it).
   */
  readonly reportTo?: string;
  /** A forwarded copy: add an ARC set (RFC 8617) with these results when it is sent (forwarding only). */
  readonly arcSeal?: ArcSealInput;
  /**
   * The message came as 8-bit (BODY=8BITMIME, RFC 6152) or with SMTPUTF8 (RFC 6531): the next hop is asked for
   * the same, so 8-bit octets never go out undeclared. Absent: 7-bit.
   */
  readonly eightBit?: boolean;
  readonly smtpUtf8?: boolean;
}

/** What the MX's filter found, for the ARC set of a copy we forward (RFC 8617 §4.1). */
export interface ArcSealInput {
  /** The Authentication-Results value as the filter made it: `authserv-id; spf=...; dkim=...`. */
  readonly authResults: string;
  /** The chain the message came with: none (no ARC yet) or pass (a broken chain is not sealed). */
  readonly cv: 'none' | 'pass';
}

export interface QueueEntry extends Omit<QueueEntryInput, 'recipients'> {
  readonly createdAt: number;
  /** When the next attempt is due; for an entry with nothing pending, when it was finished. */
  readonly nextAttemptAt: number;
  readonly recipients: readonly QueuedRecipient[];
  /** Attempts made at this entry (each recipient also counts its own). */
  readonly attempts: number;
}

/** What one attempt found, per recipient, and when to try again for those still deferred. */
export interface AttemptRecord {
  readonly at: number;
  readonly outcomes: readonly RecipientOutcome[];
  /** When the deferred recipients are next due; ignored when none is deferred. */
  readonly nextAttemptAt: number;
}

export interface OutboundQueue {
  /**
   * Writes all entries and an idempotency record for `idempotencyKey` in one transaction, so a retried
   * submission of the same message enqueues nothing twice (`duplicate: true`, nothing written).
   */
  enqueue(entries: readonly QueueEntryInput[], idempotencyKey: string): Promise<{ readonly duplicate: boolean }>;
  /** Entries with recipients pending whose next attempt is due at `now`, oldest due first, at most `limit`. */
  due(now: number, limit: number): Promise<QueueEntry[]>;
  /**
   * Takes the entry for one attempt until `until` (epoch ms): undefined when another runner holds it, it is
   * gone, or nothing in it is pending. A crashed runner's claim simply expires.
   */
  claim(id: string, owner: string, until: number): Promise<QueueEntry | undefined>;
  /** Records an attempt and releases the claim; false when the claim was lost (nothing written). */
  complete(id: string, owner: string, attempt: AttemptRecord): Promise<boolean>;
  get(id: string): Promise<QueueEntry | undefined>;
  /** Entries with recipients pending (for the QueueDepth metric); a very long queue may be counted short. */
  countPending(): Promise<number>;
  /** Every entry, pending first, a page at a time as the caller iterates (the operator's view). */
  list(): AsyncIterable<QueueEntry>;
  /** Makes the deferred recipients due now; false when the entry is unknown or has nothing pending. */
  retryNow(id: string): Promise<boolean>;
  /** Deletes the entry (the operator gave up on it); false when unknown. The blob is left to the sweep. */
  remove(id: string): Promise<boolean>;
}

// ---------------------------------------------------------------- transports

export type DeliveryResult = 'delivered' | 'deferred' | 'failed';

export interface RecipientOutcome {
  readonly address: string;
  readonly result: DeliveryResult;
  /** The reply as a line, `250 2.0.0 Ok: queued as X` or our own `451 4.4.1 No answer from host`. */
  readonly reply: string;
  readonly remoteMta?: string;
  /**
   * Who took a delivered message, for success DSNs (RFC 3461 §5.2.2): 'dsn-relay' a next hop that accepted
   * the NOTIFY/ORCPT parameters and reports from there on (we send none), 'mailbox' our own mailbox store
   * ('delivered'). Absent: a next hop without DSN (SES, a relay that did not offer it), so we send 'relayed'.
   */
  readonly handedTo?: 'dsn-relay' | 'mailbox';
}

export interface OutboundEnvelope {
  readonly mailFrom: string;
  readonly domain: string;
  readonly recipients: readonly string[];
  /** The message is 8BITMIME / SMTPUTF8 (asked of the next hop when it offers them). */
  readonly eightBit?: boolean;
  readonly smtpUtf8?: boolean;
  readonly dsn?: MessageDsn & { readonly recipients?: Readonly<Record<string, RecipientDsn>> };
}

/** Hands a message to the next hop: Amazon SES, a smarthost, the recipient domain's MX, or the local outbox. */
export interface Transport {
  readonly name: string;
  /** `open` gives the whole message (header prefix and blob) from its first byte; it may be called more than once. */
  deliver(envelope: OutboundEnvelope, open: () => Promise<Readable>, size: number): Promise<RecipientOutcome[]>;
}

// ---------------------------------------------------------------- DKIM

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface DkimKey {
  readonly domain: string;
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  readonly createdAt: number;
  /** The `p=` value of the public key (base64), for the `<selector>._domainkey` TXT record. */
  readonly publicKey: string;
}

export interface DkimPrivateKey extends DkimKey {
  /** PKCS#8 PEM. Only the signer sees it; it is never logged nor printed. */
  readonly privateKeyPem: string;
}

export interface DkimKeyStore {
  /** The keys a domain signs with now: the newest of each algorithm (RSA and Ed25519 dual-signing, RFC 8463). */
  signingKeys(domain: string): Promise<DkimPrivateKey[]>;
  /** Every key of the domain, newest first, without private parts (`admin dns`, `admin dkim list`). */
  list(domain: string): Promise<DkimKey[]>;
  /** Stores a new key; it signs from now on (the older key of its algorithm stays published until removed). */
  add(key: DkimPrivateKey): Promise<void>;
  /** Deletes every key of the domain (`domain remove`). */
  removeDomain(domain: string): Promise<void>;
}

/** Signs outbound messages: returns the DKIM-Signature fields (CRLF-terminated) to put in front of the message. */
export interface MessageSigner {
  sign(domain: string, open: () => Promise<Readable>): Promise<string>;
  /** The ARC set (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results) for a forwarded copy; '' for none. */
  seal?(domain: string, open: () => Promise<Readable>, arc: ArcSealInput): Promise<string>;
}

// ---------------------------------------------------------------- messages the system writes

/**
 * Sends a message Postern itself composed (a DSN, RFC 3464) through the one ingestion path: to local
 * recipients' mailboxes at once, to remote ones through the queue. The null sender, so nothing bounces back.
 */
export interface SystemMailSender {
  send(message: { readonly recipient: string; readonly text: Buffer; readonly idempotencyKey: string }): Promise<void>;
}
