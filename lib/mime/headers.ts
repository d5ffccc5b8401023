/**
 * Header sections (RFC 5322 §2.2), MIME parameters (RFC 2045 §5.1, with RFC 2231 continuations and charsets)
 * and encoded words (RFC 2047). Pure functions over strings and buffers: no I/O.
 */

export interface HeaderField {
  /** Lower-case field name. */
  readonly name: string;
  /** The value unfolded (CRLF before whitespace removed), not decoded, without the trailing CRLF. */
  readonly value: string;
}

/** Splits a header block (bytes up to and including the empty line) into fields. UTF-8 is allowed (RFC 6532). */
export function parseHeaderBlock(block: Buffer, maxFields = 2000): HeaderField[] {
  const text = block.toString('utf8');
  const fields: HeaderField[] = [];
  let current: { name: string; value: string } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    if ((line[0] === ' ' || line[0] === '\t') && current) {
      current.value += line;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      current = undefined; // not a field (an mbox "From " line or junk): ignored
      continue;
    }
    if (fields.length >= maxFields) break;
    current = { name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1) };
    fields.push(current);
  }
  return fields.map((f) => ({ name: f.name, value: f.value.trim() }));
}

/** The first field of that name, or undefined. */
export function headerValue(fields: readonly HeaderField[], name: string): string | undefined {
  return fields.find((f) => f.name === name)?.value;
}

// ---------------------------------------------------------------- structured values

/** Removes RFC 5322 comments (nested parentheses), keeping quoted strings intact. */
export function stripComments(value: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (depth === 0 && c === '"') quoted = !quoted;
    if (!quoted && c === '(') {
      depth++;
      continue;
    }
    if (!quoted && c === ')' && depth > 0) {
      depth--;
      if (depth === 0) out += ' ';
      continue;
    }
    if (depth === 0) out += c;
  }
  return out;
}

/** Splits on `sep` outside quoted strings. */
function splitOutsideQuotes(value: string, sep: string): string[] {
  const parts: string[] = [];
  let buf = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted) {
      buf += c + (value[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(buf);
      buf = '';
      continue;
    }
    buf += c;
  }
  parts.push(buf);
  return parts;
}

export function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

export interface ParameterizedValue {
  /** Lower-case value before the first ';' (a content type, or a disposition type). */
  readonly value: string;
  /** Parameters with lower-case names, RFC 2231 continuations joined and charsets decoded. */
  readonly params: Record<string, string>;
}

/** Parses `value; name=token; name*=utf-8''%E2%82%AC; name*0="a"; name*1="b"`. */
export function parseParameterized(input: string): ParameterizedValue {
  const [head, ...rest] = splitOutsideQuotes(stripComments(input), ';');
  const plain: Record<string, string> = {};
  const continued = new Map<string, { index: number; encoded: boolean; text: string }[]>();
  for (const raw of rest) {
    const eq = raw.indexOf('=');
    if (eq <= 0) continue;
    const key = raw.slice(0, eq).trim().toLowerCase();
    const val = unquote(raw.slice(eq + 1));
    const m = /^([^*]+)\*(?:(\d+)\*?)?$/.exec(key);
    if (!m) {
      if (!(key in plain)) plain[key] = val;
      continue;
    }
    const name = m[1];
    const index = m[2] === undefined ? 0 : Number(m[2]);
    const encoded = key.endsWith('*');
    const list = continued.get(name) ?? [];
    list.push({ index, encoded, text: val });
    continued.set(name, list);
  }
  const params: Record<string, string> = { ...plain };
  for (const [name, pieces] of continued) {
    pieces.sort((a, b) => a.index - b.index);
    let charset = 'utf-8';
    const bytes: number[] = [];
    pieces.forEach((p, i) => {
      let text = p.text;
      if (p.encoded && i === 0) {
        const q = /^([^']*)'[^']*'(.*)$/.exec(text);
        if (q) {
          charset = q[1] || 'utf-8';
          text = q[2];
        }
      }
      if (p.encoded) {
        for (let j = 0; j < text.length; j++) {
          if (text[j] === '%' && /^[0-9a-f]{2}$/i.test(text.slice(j + 1, j + 3))) {
            bytes.push(Number.parseInt(text.slice(j + 1, j + 3), 16));
            j += 2;
          } else bytes.push(...Buffer.from(text[j], 'utf8'));
        }
      } else bytes.push(...Buffer.from(text, 'utf8'));
    });
    params[name] = decodeCharset(Buffer.from(bytes), charset);
  }
  return { value: (head ?? '').trim().toLowerCase(), params };
}

// ---------------------------------------------------------------- encoded words

/** Decodes bytes in a named charset; unknown charsets fall back to Latin-1 (never throws). */
export function decodeCharset(bytes: Buffer, charset: string): string {
  const name = charset.trim().toLowerCase();
  if (name === 'utf-8' || name === 'utf8' || name === 'us-ascii' || name === 'ascii') return bytes.toString('utf8');
  try {
    return new TextDecoder(name).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

/** Decodes RFC 2047 encoded words; whitespace between two adjacent encoded words is dropped (§6.2). */
export function decodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  const collapsed = value.replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)/g, '$1');
  return collapsed.replace(ENCODED_WORD, (_m, charset: string, enc: string, text: string) => {
    const cs = charset.split('*')[0]; // RFC 2231 §5 language suffix
    let bytes: Buffer;
    if (enc.toUpperCase() === 'B') bytes = Buffer.from(text, 'base64');
    else {
      const out: number[] = [];
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c === '_') out.push(0x20);
        else if (c === '=' && /^[0-9a-f]{2}$/i.test(text.slice(i + 1, i + 3))) {
          out.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
          i += 2;
        } else out.push(c.charCodeAt(0) & 0xff);
      }
      bytes = Buffer.from(out);
    }
    return decodeCharset(bytes, cs);
  });
}
