/** The little XML the S3 stand-in speaks: response documents and the CompleteMultipartUpload request. */
const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" };
const ESCAPES = Object.fromEntries(Object.entries(ENTITIES).map(([name, c]) => [c, `&${name};`]));

/** Markup characters and control characters (as numeric references, so keys survive XML line-end handling). */
function escapeXml(value: string): string {
  return value.replace(/[&<>"'\u0000-\u001f\u007f]/g, (c) => ESCAPES[c] ?? `&#x${c.charCodeAt(0).toString(16)};`);
}

function unescapeXml(value: string): string {
  return value.replace(/&(?:#x([0-9a-f]{1,6})|#(\d{1,7})|(\w+));/gi, (whole, hex, dec, name) => {
    const code = hex !== undefined ? Number.parseInt(hex, 16) : dec !== undefined ? Number(dec) : undefined;
    if (code === undefined) return ENTITIES[name] ?? whole;
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/** Elements by name: text, or a list of child element sets, the element repeated once per item. */
export type XmlFields = Readonly<Record<string, string | readonly XmlFields[]>>;

function elements(fields: XmlFields): string {
  return Object.entries(fields)
    .map(([name, value]) =>
      typeof value === 'string'
        ? `<${name}>${escapeXml(value)}</${name}>`
        : value.map((item) => `<${name}>${elements(item)}</${name}>`).join(''),
    )
    .join('');
}

/** `<?xml ..?><Root xmlns=..><Name>value</Name>...</Root>` */
export function xmlDocument(root: string, fields: XmlFields, namespace = true): string {
  const ns = namespace ? ' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"' : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns}>${elements(fields)}</${root}>`;
}

export interface PartRef {
  partNumber: number;
  etag: string;
}

/** The parts listed by a CompleteMultipartUpload body, or undefined when it is not one. */
export function parseCompleteMultipart(xml: string): PartRef[] | undefined {
  if (!/^(?:\uFEFF)?\s*(?:<\?xml[^>]*\?>\s*)?<CompleteMultipartUpload[\s>]/.test(xml)) return undefined;
  const parts: PartRef[] = [];
  for (const [, inner] of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const number = /<PartNumber>\s*(\d{1,5})\s*<\/PartNumber>/.exec(inner)?.[1];
    const etag = /<ETag>([^<]*)<\/ETag>/.exec(inner)?.[1];
    if (number === undefined || etag === undefined) return undefined;
    parts.push({ partNumber: Number(number), etag: normalizeEtag(unescapeXml(etag)) });
  }
  return parts.length > 0 ? parts : undefined;
}

/** An ETag without its quotes, for comparison. */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, '$1');
}
