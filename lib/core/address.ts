import { domainToASCII } from 'node:url';
import { InvalidInputError } from './errors.ts';

/** A mailbox address split and normalised for lookup: the domain is lower-case ASCII (IDNA), the local part lower-case. */
export interface ParsedAddress {
  readonly local: string;
  readonly domain: string;
  /** `local@domain`, the form used as a directory key. */
  readonly address: string;
}

const MAX_LOCAL = 64; // RFC 5321 §4.5.3.1.1
const MAX_DOMAIN = 255; // RFC 5321 §4.5.3.1.2
const DOT_ATOM_LOCAL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uFFFF-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uFFFF-]+)*$/u;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Normalises a domain name: IDNA to ASCII, lower case, no trailing dot; throws on anything that is not a host name. */
export function normalizeDomain(input: string): string {
  const trimmed = input.trim();
  if (trimmed === '' || trimmed.endsWith('.') || trimmed.length > MAX_DOMAIN) {
    throw new InvalidInputError(`invalid domain: ${JSON.stringify(input)}`);
  }
  const ascii = domainToASCII(trimmed.toLowerCase());
  const labels = ascii.split('.');
  if (ascii === '' || labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^[0-9]+$/.test(labels.at(-1)!)) {
    throw new InvalidInputError(`invalid domain: ${JSON.stringify(input)}`);
  }
  return ascii;
}

/**
 * Parses `local@domain` strictly: exactly one '@' outside quotes and a dot-atom local part. A quoted local
 * part whose content is itself a dot-atom (`"u1"@d`) is the same mailbox as the unquoted form (RFC 5321
 * §4.1.2, RFC 5322 §3.4.1) and is normalised to it; one that really needs its quotes (`"a b"@d`, `"a@b"@d`) is
 * refused: we host no such mailbox, and an unquoted '@' must never appear in a normalised local part (no
 * `"user@elsewhere"@ours` relay). No source routes; '%' and '!' are plain characters with no routing meaning.
 */
export function parseAddress(input: string): ParsedAddress {
  const at = input.lastIndexOf('@');
  if (at <= 0 || at === input.length - 1) throw new InvalidInputError(`invalid address: ${JSON.stringify(input)}`);
  const raw = input.slice(0, at);
  const local = raw.startsWith('"') ? unquoteLocalPart(raw) : raw;
  if (raw.length > MAX_LOCAL || local === undefined || !DOT_ATOM_LOCAL.test(local)) {
    throw new InvalidInputError(`invalid address: ${JSON.stringify(input)}`);
  }
  const domain = normalizeDomain(input.slice(at + 1));
  const lowerLocal = local.toLowerCase();
  return { local: lowerLocal, domain, address: `${lowerLocal}@${domain}` };
}

/**
 * The content of a quoted-string local part (RFC 5321 §4.1.2 Quoted-string: qtextSMTP and quoted-pairSMTP,
 * plus UTF-8 under RFC 6531), or undefined when it is not one. The caller still checks the result is a dot-atom.
 */
function unquoteLocalPart(raw: string): string | undefined {
  const match = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e\u0080-\uffff]|\\[\x20-\x7e])*)"$/u.exec(raw);
  return match ? match[1].replace(/\\([\x20-\x7e])/g, '$1') : undefined;
}

/** True for the local part `postmaster` (RFC 5321 §4.5.1: case-insensitive), with or without a +tag. */
export function isPostmaster(local: string): boolean {
  return withoutSubaddress(local).toLowerCase() === 'postmaster';
}

/** Splits plus-addressing: `user+tag` → `user`. The tag is kept by the caller if it wants it. */
export function withoutSubaddress(local: string, separator = '+'): string {
  const i = local.indexOf(separator);
  return i > 0 ? local.slice(0, i) : local;
}
