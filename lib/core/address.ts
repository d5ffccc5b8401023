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
 * Parses `local@domain` strictly: exactly one unquoted '@', a dot-atom local part (no quoted strings, no
 * source routes, no '%' relay hacks are given any routing meaning: they simply do not match a local user).
 */
export function parseAddress(input: string): ParsedAddress {
  const at = input.lastIndexOf('@');
  if (at <= 0 || at === input.length - 1) throw new InvalidInputError(`invalid address: ${JSON.stringify(input)}`);
  const local = input.slice(0, at);
  if (local.length > MAX_LOCAL || !DOT_ATOM_LOCAL.test(local) || local.includes('@')) {
    throw new InvalidInputError(`invalid address: ${JSON.stringify(input)}`);
  }
  const domain = normalizeDomain(input.slice(at + 1));
  const lowerLocal = local.toLowerCase();
  return { local: lowerLocal, domain, address: `${lowerLocal}@${domain}` };
}

/** Splits plus-addressing: `user+tag` → `user`. The tag is kept by the caller if it wants it. */
export function withoutSubaddress(local: string, separator = '+'): string {
  const i = local.indexOf(separator);
  return i > 0 ? local.slice(0, i) : local;
}
