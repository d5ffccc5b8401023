/**
 * Modified UTF-7 mailbox names (RFC 3501 §5.1.3): printable US-ASCII stands for itself except `&`, which
 * is `&-`; any other run of characters is `&` + modified BASE64 (`,` for `/`, no padding) of its UTF-16BE
 * + `-`. IMAP4rev2 and UTF8=ACCEPT clients use UTF-8 names instead (RFC 9051 §5.1, RFC 6855 §3).
 */

const printable = (c: number): boolean => c >= 0x20 && c <= 0x7e;

function encodeRun(units: number[]): string {
  const bytes = Buffer.alloc(units.length * 2);
  units.forEach((u, i) => {
    bytes.writeUInt16BE(u, i * 2);
  });
  return `&${bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
}

/** A mailbox name as IMAP4rev1 clients expect it on the wire. */
export function encodeModifiedUtf7(name: string): string {
  let out = '';
  let run: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (printable(unit)) {
      if (run.length > 0) out += encodeRun(run);
      run = [];
      out += unit === 0x26 ? '&-' : name[i];
    } else run.push(unit);
  }
  return run.length > 0 ? out + encodeRun(run) : out;
}

/** Decodes one `&...-` run's BASE64; null when it is not the canonical encoding of valid UTF-16. */
function decodeRun(b64: string): string | null {
  if (!/^[A-Za-z0-9+,]+$/.test(b64)) return null;
  const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
  // canonical: no stray bits, whole UTF-16 units (a lenient decoder would accept garbage as names)
  if (bytes.length % 2 !== 0 || encodeRunBytes(bytes) !== b64) return null;
  let text = '';
  for (let i = 0; i < bytes.length; i += 2) {
    const unit = bytes.readUInt16BE(i);
    if (printable(unit)) return null; // MUST NOT encode what can stand for itself
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = i + 2 < bytes.length ? bytes.readUInt16BE(i + 2) : 0;
      if (low < 0xdc00 || low > 0xdfff) return null;
      text += String.fromCharCode(unit, low);
      i += 2;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return null;
    else text += String.fromCharCode(unit);
  }
  return text;
}

function encodeRunBytes(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',');
}

/** The name a modified UTF-7 string stands for, or null when it is not valid modified UTF-7. */
export function decodeModifiedUtf7(wire: string): string | null {
  let out = '';
  for (let i = 0; i < wire.length; i++) {
    const c = wire.charCodeAt(i);
    if (!printable(c)) return null;
    if (c !== 0x26) {
      out += wire[i];
      continue;
    }
    const end = wire.indexOf('-', i + 1);
    if (end === -1) return null;
    if (end === i + 1) out += '&';
    else {
      const run = decodeRun(wire.slice(i + 1, end));
      if (run === null) return null;
      out += run;
    }
    i = end;
  }
  return out;
}
