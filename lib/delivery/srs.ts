/**
 * The Sender Rewriting Scheme (SRS), in the shape Mail::SRS and libsrs2 (and so Postfix's postsrsd) use, so
 * that a forwarded copy's envelope sender is in our domain and SPF at the next hop checks our servers
 * (RFC 7208 §11.3 leaves forwarding to schemes like this one), while a bounce to it can still reach the
 * original sender:
 *
 *   user@orig  ->  SRS0=HHHHHH=TT=orig=user@ours          (we forward mail from user@orig)
 *   SRS0=opaque@hop  ->  SRS1=HHHHHH=hop==opaque@ours     (we forward mail already forwarded once by hop)
 *
 * TT is the day of the rewrite in base32, modulo 1024 days (libsrs2's timestamp); HHHHHH a keyed hash
 * (HMAC-SHA-256 with the configured secret, the first 30 bits in base32) over the lower-cased fields, so an
 * address is only reversible when we made it, for `maxAgeDays`, and whatever the case the next hops gave it
 * back in (local parts are case-sensitive in principle, RFC 5321 §2.4, but many systems fold them). An SRS1
 * address carries the first hop's SRS0 part unchanged: its timestamp is the first hop's to check.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const DAY_MS = 86_400_000;
/** Two base32 characters of days. */
const TIME_SLOTS = 1024;
/** Base32 characters of hash kept (30 bits; Mail::SRS keeps 4 base64 characters, 24 bits). */
const HASH_LENGTH = 6;
/** Bounce addresses are honoured this long by default (libsrs2's default is 21 days too). */
export const DEFAULT_SRS_MAX_AGE_DAYS = 21;

export interface SrsOptions {
  /** The HMAC key new addresses are made with. */
  readonly secret: string;
  /** Keys of before a rotation: addresses made with them still reverse (bounces take days to come back). */
  readonly previousSecrets?: readonly string[];
  readonly maxAgeDays?: number;
  readonly now?: () => number;
}

export type SrsReversal =
  | { readonly ok: true; readonly address: string }
  | { readonly ok: false; readonly reason: 'syntax' | 'hash' | 'expired' };

const SRS_PREFIX = /^srs([01])([=+-])/i;

/** Whether a local part claims to be an SRS address (SRS0 or SRS1 with any of libsrs2's separators). */
export function isSrsLocalPart(local: string): boolean {
  return SRS_PREFIX.test(local);
}

function splitAddress(address: string): { local: string; domain: string } | undefined {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return undefined;
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

/** The first `count` '='-separated fields and the rest (which may itself hold '='). */
function fields(text: string, count: number): string[] | undefined {
  const out: string[] = [];
  let from = 0;
  for (let i = 0; i < count; i++) {
    const eq = text.indexOf('=', from);
    if (eq < 0) return undefined;
    out.push(text.slice(from, eq));
    from = eq + 1;
  }
  out.push(text.slice(from));
  return out.every((f) => f.length > 0) ? out : undefined;
}

export class SrsCodec {
  private readonly maxAgeDays: number;

  private readonly secrets: readonly string[];

  constructor(private readonly opts: SrsOptions) {
    this.secrets = [opts.secret, ...(opts.previousSecrets ?? [])];
    if (this.secrets.some((k) => k.length < 16)) throw new Error('an SRS secret must have at least 16 characters');
    this.maxAgeDays = opts.maxAgeDays ?? DEFAULT_SRS_MAX_AGE_DAYS;
  }

  /**
   * The envelope sender for a copy we forward from `domain` (ours). The null sender stays null (nothing may
   * bounce it, RFC 5321 §4.5.5); a sender already in `domain` needs no rewrite (libsrs2 does the same).
   */
  forward(sender: string, domain: string): string {
    const parts = splitAddress(sender);
    if (!parts) return sender;
    if (parts.domain.toLowerCase() === domain.toLowerCase()) return sender;
    const prefix = SRS_PREFIX.exec(parts.local);
    if (prefix?.[1] === '0') {
      // SRS0=rest@hop -> SRS1=hash=hop==rest@us ("=rest" keeps the separator, hence the double '=')
      const rest = parts.local.slice(4);
      return `SRS1=${this.hash(parts.domain, rest)}=${parts.domain}=${rest}@${domain}`;
    }
    if (prefix?.[1] === '1') {
      const srs1 = fields(parts.local.slice(5), 2); // [hash, first hop, rest]
      if (srs1) {
        const [, hop, rest] = srs1;
        return `SRS1=${this.hash(hop, rest)}=${hop}=${rest}@${domain}`;
      }
    }
    const stamp = this.timestamp();
    return `SRS0=${this.hash(stamp, parts.domain, parts.local)}=${stamp}=${parts.domain}=${parts.local}@${domain}`;
  }

  /**
   * The address an SRS address of ours stands for: the original sender (SRS0), or the first hop's SRS0
   * address (SRS1). Undefined when the local part is not SRS at all.
   */
  reverse(address: string): SrsReversal | undefined {
    const parts = splitAddress(address);
    const prefix = parts && SRS_PREFIX.exec(parts.local);
    if (!parts || !prefix) return undefined;
    const body = parts.local.slice(5);
    if (prefix[1] === '0') {
      const srs0 = fields(body, 3); // [hash, timestamp, domain, local]
      if (!srs0) return { ok: false, reason: 'syntax' };
      const [hash, stamp, domain, local] = srs0;
      if (!this.hashMatches(hash, stamp, domain, local)) return { ok: false, reason: 'hash' };
      if (!this.fresh(stamp)) return { ok: false, reason: 'expired' };
      return { ok: true, address: `${local}@${domain}` };
    }
    const srs1 = fields(body, 2); // [hash, first hop, rest]
    if (!srs1) return { ok: false, reason: 'syntax' };
    const [hash, hop, rest] = srs1;
    if (!this.hashMatches(hash, hop, rest)) return { ok: false, reason: 'hash' };
    return { ok: true, address: `SRS0${rest}@${hop}` };
  }

  private today(): number {
    return Math.floor((this.opts.now ?? Date.now)() / DAY_MS) % TIME_SLOTS;
  }

  private timestamp(): string {
    const day = this.today();
    return BASE32[day >> 5] + BASE32[day & 31];
  }

  /** Whether a two-character timestamp is of the last maxAgeDays days (modulo the 1024-day cycle). */
  private fresh(stamp: string): boolean {
    if (stamp.length !== 2) return false;
    const hi = BASE32.indexOf(stamp[0].toUpperCase());
    const lo = BASE32.indexOf(stamp[1].toUpperCase());
    if (hi < 0 || lo < 0) return false;
    const age = (this.today() - ((hi << 5) | lo) + TIME_SLOTS) % TIME_SLOTS;
    return age <= this.maxAgeDays;
  }

  private hash(...parts: string[]): string {
    return this.hashWith(this.opts.secret, parts);
  }

  private hashWith(secret: string, parts: readonly string[]): string {
    const mac = createHmac('sha256', secret);
    for (const part of parts) mac.update(`${part.toLowerCase()}\0`);
    const digest = mac.digest();
    let bits = 0;
    let value = 0;
    let out = '';
    for (const byte of digest) {
      value = (value << 8) | byte;
      bits += 8;
      while (bits >= 5 && out.length < HASH_LENGTH) {
        out += BASE32[(value >> (bits - 5)) & 31];
        bits -= 5;
      }
      if (out.length === HASH_LENGTH) break;
    }
    return out;
  }

  /** Whether the hash is one of ours, made with the current secret or a previous one. */
  private hashMatches(given: string, ...parts: string[]): boolean {
    const actual = Buffer.from(given.toUpperCase());
    return this.secrets.some((secret) => {
      const expected = Buffer.from(this.hashWith(secret, parts));
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    });
  }
}
