/**
 * Readers nobody here wrote, from Debian's /usr/bin/python3: the expat XML parser (xml.etree.ElementTree,
 * which refuses anything not well-formed) and dnspython's zone-file parser.
 */
import { spawnSync } from 'node:child_process';

function python(script: string, input: string, args: readonly string[] = []): unknown {
  const run = spawnSync('/usr/bin/python3', ['-c', script, ...args], { input, maxBuffer: 16 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr.toString()}`);
  return JSON.parse(run.stdout.toString());
}

/** An element as ElementTree gives it: tag `{namespace}local`, attributes, stripped text, children. */
export interface XmlElement {
  readonly tag: string;
  readonly attrib: Readonly<Record<string, string>>;
  readonly text: string;
  readonly children: readonly XmlElement[];
}

const XML_SCRIPT = `
import json, sys, xml.etree.ElementTree as ET
def tree(e):
    return {"tag": e.tag, "attrib": dict(e.attrib), "text": (e.text or "").strip(), "children": [tree(c) for c in e]}
print(json.dumps(tree(ET.fromstring(sys.stdin.buffer.read()))))
`;

export const parseXml = (xml: string) => python(XML_SCRIPT, xml) as XmlElement;

/** Children with that tag (the namespace part included when the document has one). */
export const childrenNamed = (e: XmlElement, tag: string) => e.children.filter((c) => c.tag === tag);
export function child(e: XmlElement, tag: string): XmlElement {
  const [found] = childrenNamed(e, tag);
  if (!found) throw new Error(`${e.tag} has no ${tag}`);
  return found;
}

/** One resource record as dnspython read it: absolute owner name, type, rdata in its own text form. */
export interface ZoneRecord {
  readonly name: string;
  readonly type: string;
  readonly data: string;
  /** TXT only: the character-strings joined, as a resolver hands them to DKIM, SPF or DMARC code. */
  readonly text?: string;
}

const ZONE_SCRIPT = `
import json, sys, dns.zone, dns.rdatatype
origin = sys.argv[1]
text = "$TTL 3600\\n@ IN SOA ns. host. 1 7200 3600 1209600 3600\\n@ IN NS ns.\\n" + sys.stdin.read()
zone = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=False)
out = []
for name, ttl, rdata in zone.iterate_rdatas():
    kind = dns.rdatatype.to_text(rdata.rdtype)
    if kind in ("SOA", "NS"): continue
    rec = {"name": name.to_text(), "type": kind, "data": rdata.to_text()}
    if kind == "TXT": rec["text"] = b"".join(rdata.strings).decode()
    out.append(rec)
print(json.dumps(out))
`;

/** Parses zone-file lines for `origin` (a SOA and NS are added so the zone is complete). */
export function parseZone(lines: readonly string[], origin: string): ZoneRecord[] {
  return python(ZONE_SCRIPT, `${lines.join('\n')}\n`, [origin]) as ZoneRecord[];
}
