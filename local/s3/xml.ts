/**
 * Tiny XML helpers for the S3 stand-in: escaping, a string builder for
 * responses, and regex-based readers for the two request bodies we accept
 * (CompleteMultipartUpload and Delete). S3 request documents are flat and
 * small, so a full XML parser is not needed.
 */

export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';
export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/**
 * Escape text for element content. Besides the five markup characters, CR,
 * LF, TAB and other control characters are written as numeric references so
 * that keys survive XML end-of-line normalisation byte-exactly.
 */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"'\u0000-\u001f\u007f\ufffe\uffff]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;
    }
  });
}

/** Decode the five predefined entities plus decimal/hex character references. */
export function decodeXmlEntities(value: string): string {
  return value.replace(/&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(amp|lt|gt|quot|apos));/g, (whole, hex, dec, named) => {
    if (hex !== undefined || dec !== undefined) {
      const cp = hex !== undefined ? Number.parseInt(hex, 16) : Number.parseInt(dec, 10);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return whole;
      return String.fromCodePoint(cp);
    }
    switch (named) {
      case 'amp':
        return '&';
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'quot':
        return '"';
      default:
        return "'";
    }
  });
}

export type XmlValue = string | number | boolean | XmlNode | XmlValue[] | undefined | null;
export interface XmlNode {
  [name: string]: XmlValue;
}

/**
 * Render `{ Name: 'b', Contents: [{ Key: 'k' }, ...] }` as child elements.
 * Arrays repeat the element; undefined/null values are omitted.
 */
export function renderXml(node: XmlNode): string {
  let out = '';
  for (const [name, value] of Object.entries(node)) out += renderValue(name, value);
  return out;
}

function renderValue(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => renderValue(name, v)).join('');
  if (typeof value === 'object') return `<${name}>${renderXml(value)}</${name}>`;
  const text = escapeXml(String(value));
  return text === '' ? `<${name}/>` : `<${name}>${text}</${name}>`;
}

/** A complete document with declaration and the S3 namespace on the root element. */
export function xmlDocument(root: string, body: XmlNode, namespace = true): string {
  const ns = namespace ? ` xmlns="${S3_NS}"` : '';
  return `${XML_DECL}<${root}${ns}>${renderXml(body)}</${root}>`;
}

/** Text of every `<tag>..</tag>` directly found in `xml` (no nesting of the same tag). */
function elements(xml: string, tag: string): string[] {
  const re = new RegExp(`<(?:[A-Za-z0-9_-]+:)?${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[A-Za-z0-9_-]+:)?${tag}\\s*>`, 'g');
  const out: string[] = [];
  for (const m of xml.matchAll(re)) out.push(m[1]);
  return out;
}

function firstText(xml: string, tag: string): string | undefined {
  const found = elements(xml, tag)[0];
  if (found === undefined) {
    // <Tag/> means an empty value
    const empty = new RegExp(`<(?:[A-Za-z0-9_-]+:)?${tag}(?:\\s[^>]*)?/>`);
    return empty.test(xml) ? '' : undefined;
  }
  return decodeXmlEntities(found.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1'));
}

function rootIs(xml: string, tag: string): boolean {
  const body = xml
    .replace(/^\uFEFF/, '')
    .replace(/<\?[\s\S]*?\?>/g, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .trim();
  return new RegExp(`^<(?:[A-Za-z0-9_-]+:)?${tag}[\\s>/]`).test(body);
}

export interface CompletedPartRef {
  partNumber: number;
  etag: string;
}

/** Parse a CompleteMultipartUpload body. Returns undefined if it is malformed. */
export function parseCompleteMultipart(xml: string): CompletedPartRef[] | undefined {
  if (!rootIs(xml, 'CompleteMultipartUpload')) return undefined;
  const parts: CompletedPartRef[] = [];
  for (const inner of elements(xml, 'Part')) {
    const num = firstText(inner, 'PartNumber')?.trim();
    const etag = firstText(inner, 'ETag')?.trim();
    if (num === undefined || !/^[0-9]{1,5}$/.test(num) || etag === undefined) return undefined;
    parts.push({ partNumber: Number(num), etag });
  }
  return parts.length > 0 ? parts : undefined;
}

export interface DeleteRequest {
  quiet: boolean;
  keys: string[];
}

/** Parse a Delete (DeleteObjects) body. Returns undefined if it is malformed. */
export function parseDeleteObjects(xml: string): DeleteRequest | undefined {
  if (!rootIs(xml, 'Delete')) return undefined;
  const keys: string[] = [];
  for (const inner of elements(xml, 'Object')) {
    const key = firstText(inner, 'Key');
    if (key === undefined) return undefined;
    keys.push(key);
  }
  const quiet = firstText(xml, 'Quiet')?.trim().toLowerCase() === 'true';
  return { quiet, keys };
}

/** Strip surrounding quotes (and a W/ prefix) from an ETag for comparison. */
export function normalizeEtag(etag: string): string {
  let e = etag.trim();
  if (e.startsWith('W/')) e = e.slice(2);
  if (e.length >= 2 && e.startsWith('"') && e.endsWith('"')) e = e.slice(1, -1);
  return e;
}
