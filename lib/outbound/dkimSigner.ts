/**
 * DKIM signing of outbound mail (RFC 6376), with mailauth's signer: relaxed/relaxed, the usual header set,
 * From oversigned, and one signature per current key of the domain (RSA and Ed25519 together, RFC 8463 §3).
 *
 * mailauth's `dkimSign` cannot oversign (it names in h= only the fields present), so this drives the class it
 * wraps, DkimSigner, the same way and marks the From field to be listed once more than it occurs: a verifier
 * takes the missing instance as the null string (RFC 6376 §5.4.2), so no From can be added above the signed one.
 *
 * The message is streamed through: mailauth keeps the header section (it must, to sign it at the end) and the
 * current unfinished body line; the body goes through the hash a chunk at a time. It takes about ten times a
 * header section's size in memory, so one larger than `maxHeaderBytes` is not signed (logged) rather than read.
 */
import { type Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DkimSigner as mailauthDkimSigner } from 'mailauth/lib/dkim/dkim-signer.js';
import type { Logger } from '../core/log.ts';
import type { ArcSealInput, DkimKeyStore, DkimPrivateKey, MessageSigner } from '../core/outbound.ts';
import { arcKey, arcSet } from './arcSeal.ts';

/** Signed when present (RFC 6376 §5.4.1's list, as Gmail and Postfix's OpenDKIM sign). */
export const SIGNED_HEADER_FIELDS: readonly string[] = [
  'From',
  'Sender',
  'Reply-To',
  'To',
  'Cc',
  'Subject',
  'Date',
  'Message-ID',
  'In-Reply-To',
  'References',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'List-Id',
  'List-Help',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'List-Subscribe',
  'List-Post',
  'List-Owner',
  'List-Archive',
];

// ---------------------------------------------------------------- mailauth's signer, as much of it as we use

interface ParsedHeader {
  readonly key: string | null;
  casedKey?: string;
}

interface SignatureSpec {
  readonly signingDomain: string;
  readonly selector: string;
  readonly privateKey: string;
  readonly algorithm: string;
  readonly canonicalization: string;
}

interface MailauthDkimSigner extends Writable {
  readonly signatureHeaders: string[];
  readonly errors: { readonly selector?: string; readonly err: Error }[];
  messageHeaders(headers: { readonly parsed: ParsedHeader[] }): Promise<void>;
}

type DkimSignerClass = new (options: {
  signatureData: SignatureSpec[];
  headerList: string;
  signTime: Date;
}) => MailauthDkimSigner;

// A static import (typed in mailauth-dkim-signer.d.ts), so esbuild bundles it into the deliver Lambda: a
// createRequire() call is left to run time, where the bundle has no node_modules.
const DkimSigner = mailauthDkimSigner as DkimSignerClass;

/** DkimSigner whose h= lists From once more than the message has it (oversigning). */
class OversigningSigner extends DkimSigner {
  override async messageHeaders(headers: { readonly parsed: ParsedHeader[] }): Promise<void> {
    // h= is built from casedKey, bottom field first; the topmost From comes last among them, so "From:From"
    // there adds the extra, empty instance after every real one, as a verifier reads h=.
    const top = headers.parsed.find((h) => h.key === 'from');
    if (top?.casedKey) top.casedKey = `${top.casedKey}:${top.casedKey}`;
    await super.messageHeaders(headers);
  }
}

// ---------------------------------------------------------------- a bound on the header section

class HeaderTooLarge extends Error {}

/**
 * Passes the message through, failing with HeaderTooLarge once more than `max` octets have gone by without the
 * empty line that ends the header section (CRLF CRLF, or LF LF as mailauth also takes; an empty first line
 * ends an empty header section).
 */
function headerLimit(max: number): Transform {
  let seen = 0;
  let last = [-1, -1, -1]; // the three octets before the current one
  let inBody = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (!inBody) {
        for (let i = 0; i < chunk.length && !inBody; i++) {
          const c = chunk[i];
          if (c === 0x0a) {
            const [, b2, b1] = last;
            inBody = b1 === 0x0a || (b1 === 0x0d && b2 === 0x0a) || seen === 0 || (seen === 1 && b1 === 0x0d);
          }
          last = [last[1], last[2], c];
          seen++;
        }
        if (!inBody && seen > max) return done(new HeaderTooLarge(`header section over ${max} octets`));
      }
      done(null, chunk);
    },
  });
}

// ---------------------------------------------------------------- the port

export interface DkimSignerOptions {
  readonly keys: DkimKeyStore;
  readonly logger: Logger;
  /**
   * How long a domain's keys are reused before the store is asked again (default a minute; 0: every message).
   * Secrets Manager bills each read, and a rotation only has to reach the signer before the old key is retired.
   */
  readonly keyCacheMs?: number;
  /** Largest header section signed (default 1 MiB; real ones are a few KiB). */
  readonly maxHeaderBytes?: number;
  /** The clock for t= and the cache (tests). */
  readonly now?: () => number;
}

/** Most domains whose keys are kept at once; past it the cache starts afresh (a signer serves few domains). */
const KEY_CACHE_DOMAINS = 1000;

const signatureSpec = (domain: string, key: DkimPrivateKey): SignatureSpec => ({
  signingDomain: domain,
  selector: key.selector,
  privateKey: key.privateKeyPem,
  algorithm: key.algorithm,
  canonicalization: 'relaxed/relaxed',
});

export class DkimMessageSigner implements MessageSigner {
  private readonly cache = new Map<string, { readonly keys: Promise<DkimPrivateKey[]>; readonly until: number }>();

  constructor(private readonly opts: DkimSignerOptions) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** The domain's signing keys, from the cache while fresh; a failed read is not kept. */
  private signingKeys(domain: string): Promise<DkimPrivateKey[]> {
    const ttl = this.opts.keyCacheMs ?? 60_000;
    const now = this.now();
    const hit = this.cache.get(domain);
    if (hit && hit.until > now) return hit.keys;
    const keys = this.opts.keys.signingKeys(domain);
    if (ttl <= 0) return keys;
    if (this.cache.size >= KEY_CACHE_DOMAINS) this.cache.clear();
    const entry = { keys, until: now + ttl };
    this.cache.set(domain, entry);
    keys.catch(() => {
      if (this.cache.get(domain) === entry) this.cache.delete(domain);
    });
    return keys;
  }

  /**
   * The DKIM-Signature fields to put in front of the message, CRLF-terminated; '' when the domain has no key
   * (the message goes unsigned, logged). A failing key store throws: better a retry than unsigned mail.
   */
  async sign(input: string, open: () => Promise<Readable>): Promise<string> {
    const domain = input.toLowerCase();
    const keys = await this.signingKeys(domain);
    if (keys.length === 0) {
      this.opts.logger.warn('dkim: no key for the domain, sending unsigned', { domain });
      return '';
    }
    const signer = new OversigningSigner({
      signatureData: keys.map((k) => signatureSpec(domain, k)),
      headerList: SIGNED_HEADER_FIELDS.join(':'),
      signTime: new Date(this.now()),
    });
    try {
      await pipeline(await open(), headerLimit(this.opts.maxHeaderBytes ?? 2 ** 20), signer);
    } catch (err) {
      if (!(err instanceof HeaderTooLarge)) throw err;
      this.opts.logger.error('dkim: header section too large to sign, sending unsigned', { domain, err: err.message });
      return '';
    }
    for (const { selector, err } of signer.errors) {
      // The error names the selector and the reason (no From, unusable key), never the key itself.
      this.opts.logger.error('dkim: signature not made', { domain, selector, err: err.message });
    }
    const made = signer.signatureHeaders;
    return made.length ? `${made.join('\r\n')}\r\n` : '';
  }

  /**
   * The ARC set of a forwarded copy (arcSeal.ts), with the domain's RSA key and the same header bound as
   * signing; '' (logged) when the domain has no RSA key or mailauth made no set. A failing key store throws.
   */
  async seal(input: string, open: () => Promise<Readable>, arc: ArcSealInput): Promise<string> {
    const domain = input.toLowerCase();
    const key = arcKey(await this.signingKeys(domain));
    if (!key) {
      this.opts.logger.warn('arc: no RSA key for the domain, forwarding without an ARC set', { domain });
      return '';
    }
    const limited = headerLimit(this.opts.maxHeaderBytes ?? 2 ** 20);
    const source = await open();
    source.on('error', (err) => limited.destroy(err));
    try {
      const made = await arcSet(key, source.pipe(limited), arc, new Date(this.now()));
      for (const err of made.errors) this.opts.logger.error('arc: set not made', { domain, err });
      return made.fields;
    } catch (err) {
      if (!(err instanceof HeaderTooLarge)) throw err;
      this.opts.logger.error('arc: header section too large to seal, forwarding without', { domain });
      return '';
    }
  }
}
