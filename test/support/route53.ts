/**
 * A tiny Route 53 for tests: the REST-XML ChangeResourceRecordSets (UPSERT, DELETE), GetChange,
 * ListResourceRecordSets (of one name and type) and GetHostedZone (of the `zones` given) calls the DNS-01
 * challenge writer and the admin CLI's DKIM records make, records in memory. It is not AWS: no signature check, no validation beyond a
 * DELETE having to match what is there; every change is PENDING when made and INSYNC at the first GetChange.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route53StandIn {
  readonly endpoint: string;
  /** `zoneId name type` to the record's values, as sent (TXT values quoted). */
  readonly records: Map<string, { ttl: number; values: string[] }>;
  /** Every request: method and path. */
  readonly requests: { readonly method: string; readonly path: string }[];
  stop(): Promise<void>;
}

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';
const tag = (xml: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]);
const xmlText = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `zones`: hosted zone id to its name, for GetHostedZone. */
export async function startRoute53(zones: Readonly<Record<string, string>> = {}): Promise<Route53StandIn> {
  const records: Route53StandIn['records'] = new Map();
  const requests: Route53StandIn['requests'] = [];
  let changes = 0;
  const changeInfo = (id: string, status: string) =>
    `<ChangeInfo><Id>/change/${id}</Id><Status>${status}</Status><SubmittedAt>2026-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo>`;
  const server = createServer((req, res) => {
    const path = req.url ?? '';
    requests.push({ method: req.method ?? '', path });
    const reply = (status: number, xml: string) =>
      res.writeHead(status, { 'content-type': 'text/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
    const url = new URL(path, 'http://route53');
    const rrset = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(url.pathname);
    if (req.method === 'GET' && rrset) {
      const name = (url.searchParams.get('name') ?? '').replace(/\.$/, '');
      const type = url.searchParams.get('type') ?? '';
      const found = records.get(`${rrset[1]} ${name} ${type}`);
      const set = found
        ? `<ResourceRecordSet><Name>${name}.</Name><Type>${type}</Type><TTL>${found.ttl}</TTL><ResourceRecords>${found.values.map((v) => `<ResourceRecord><Value>${escapeXml(v)}</Value></ResourceRecord>`).join('')}</ResourceRecords></ResourceRecordSet>`
        : '';
      return reply(
        200,
        `<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${set}</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>`,
      );
    }
    const zone = /^\/2013-04-01\/hostedzone\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && zone && zones[zone[1]]) {
      return reply(
        200,
        `<GetHostedZoneResponse xmlns="${NS}"><HostedZone><Id>/hostedzone/${zone[1]}</Id><Name>${zones[zone[1]]}.</Name><CallerReference>test</CallerReference></HostedZone><DelegationSet><NameServers><NameServer>ns.example</NameServer></NameServers></DelegationSet></GetHostedZoneResponse>`,
      );
    }
    if (req.method === 'POST' && rrset) {
      void body(req).then((xml) => {
        const [action] = tag(xml, 'Action');
        const [name] = tag(xml, 'Name');
        const [type] = tag(xml, 'Type');
        const ttl = Number(tag(xml, 'TTL')[0]);
        const values = tag(xml, 'Value').map(xmlText);
        const key = `${rrset[1]} ${name.replace(/\.$/, '')} ${type}`;
        const existing = records.get(key);
        if (action === 'DELETE' && (existing?.ttl !== ttl || existing.values.join() !== values.join())) {
          return reply(
            400,
            `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>InvalidChangeBatch</Code><Message>record not found</Message></Error></ErrorResponse>`,
          );
        }
        if (action === 'DELETE') records.delete(key);
        else records.set(key, { ttl, values });
        reply(
          200,
          `<ChangeResourceRecordSetsResponse xmlns="${NS}">${changeInfo(`C${++changes}`, 'PENDING')}</ChangeResourceRecordSetsResponse>`,
        );
      });
      return;
    }
    const change = /^\/2013-04-01\/change\/([^/?]+)/.exec(path);
    if (req.method === 'GET' && change) {
      return reply(200, `<GetChangeResponse xmlns="${NS}">${changeInfo(change[1], 'INSYNC')}</GetChangeResponse>`);
    }
    reply(
      404,
      `<ErrorResponse xmlns="${NS}"><Error><Code>NotImplemented</Code><Message>${path}</Message></Error></ErrorResponse>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    records,
    requests,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
