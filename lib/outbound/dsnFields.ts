/**
 * Field values of a message/delivery-status part (RFC 3464 §2): address types, status codes and the
 * sanitising that keeps text from remote servers and clients (replies, ORCPT, ENVID) from breaking out of
 * its field. The part is 7bit (RFC 3464 §2.1), so every value here is printable ASCII.
 */

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed';

/** Longest value we copy from a reply or parameter; a field is folded, never cut below this. */
const MAX_VALUE = 900;

/** Printable ASCII and spaces only: control characters (CR, LF, NUL ...) and 8-bit text become '?'. */
export function printableAscii(text: string, max = MAX_VALUE): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim()
    .slice(0, max);
}

/**
 * RFC 6533 §3 utf-8-addr-xtext: printable ASCII except SP, '\', '+', '=' as is, everything else as
 * `\x{HEX}` (upper-case code point), so a non-ASCII address fits a 7bit field.
 */
export function utf8AddrXtext(address: string): string {
  let out = '';
  for (const ch of address) {
    const cp = ch.codePointAt(0)!;
    const plain = cp >= 0x21 && cp <= 0x7e && ch !== '\\' && ch !== '+' && ch !== '=';
    out += plain ? ch : `\\x{${cp.toString(16).toUpperCase()}}`;
  }
  return out;
}

/** Reverses utf8AddrXtext (also accepts the utf-8-addr-unitext form, raw UTF-8 with escapes). */
export function decodeUtf8AddrXtext(text: string): string {
  return text.replace(/\\x\{([0-9A-Fa-f]{1,6})\}/g, (whole, hex: string) => {
    const cp = Number.parseInt(hex, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
  });
}

/**
 * `addr-type; address` for Final-Recipient (RFC 3464 §2.3.2): rfc822 for an ASCII address, utf-8 with the
 * xtext form for an internationalised one (RFC 6533 §3).
 */
export function typedAddress(address: string): string {
  const clean = address.replace(/[\x00-\x20\x7f]/g, '');
  return /^[\x21-\x7e]*$/.test(clean) ? `rfc822;${clean}` : `utf-8;${utf8AddrXtext(clean)}`;
}

/**
 * Original-Recipient from ORCPT as the client gave it (`addr-type;address`, xtext-decoded; RFC 3461 §4.2,
 * RFC 3464 §2.3.1): kept as given when it is printable ASCII; a utf-8 one (or an rfc822 one with 8-bit text)
 * is written in the utf-8-addr-xtext form; anything without a type is dropped.
 */
export function originalRecipient(orcpt: string): string | undefined {
  const semi = orcpt.indexOf(';');
  if (semi <= 0) return undefined;
  const type = orcpt.slice(0, semi).trim().toLowerCase();
  if (!/^[a-z0-9-]{1,30}$/.test(type)) return undefined;
  const address = orcpt.slice(semi + 1).trim();
  if (address === '' || /[\x00-\x1f\x7f]/.test(address)) return undefined;
  if (type === 'utf-8' || /[^\x20-\x7e]/.test(address)) {
    const decoded = type === 'utf-8' ? decodeUtf8AddrXtext(address) : address;
    return `utf-8;${utf8AddrXtext(decoded)}`.slice(0, MAX_VALUE);
  }
  return `${type};${address}`.slice(0, MAX_VALUE);
}

/** The enhanced status code of a reply line (`550 5.1.1 ...` → `5.1.1`; RFC 3463 §2), or undefined. */
export function enhancedCode(reply: string | undefined): string | undefined {
  const m = reply ? /^[245]\d\d[ -]([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)/.exec(reply.trim()) : null;
  return m ? `${m[1]}.${m[2]}.${m[3]}` : undefined;
}

const ACTION_CLASS: Record<DsnAction, string> = { failed: '5', delayed: '4', delivered: '2', relayed: '2' };

/**
 * Status (RFC 3464 §2.3.4) for the action: the reply's enhanced code when its class fits the action, else
 * the class default x.0.0. A failure whose last reply was transient is the queue giving up on it, which
 * RFC 3463 §3.5 names X.4.7 "delivery time expired".
 */
export function statusFor(action: DsnAction, reply: string | undefined): string {
  const code = enhancedCode(reply);
  const cls = ACTION_CLASS[action];
  if (code?.startsWith(`${cls}.`)) return code;
  if (action === 'failed' && (code?.startsWith('4.') || /^4\d\d/.test(reply?.trim() ?? ''))) return '5.4.7';
  return `${cls}.0.0`;
}

/**
 * `Name: value` folded at spaces to lines of at most 78 characters where it can (RFC 5322 §2.1.1),
 * CRLF-terminated. A word longer than a line stays whole (lines stay below 998 through MAX_VALUE).
 */
export function foldField(name: string, value: string): string {
  const words = value.trim().split(/ +/);
  let line = `${name}:`;
  let out = '';
  for (const word of words) {
    if (line.length + 1 + word.length > 78 && line.trim() !== `${name}:`) {
      out += `${line}\r\n`;
      line = ` ${word}`;
    } else {
      line += ` ${word}`;
    }
  }
  return `${out}${line}\r\n`;
}
