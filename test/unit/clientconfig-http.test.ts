/**
 * The clientconfig Lambda's handler (functions/clientconfig/index.ts, its settings from the environment as in
 * the stack) behind a small HTTP server that makes API Gateway's payload-2.0 events the way the HTTP API does
 * (custom domain from Host, body base64-encoded), asked by curl.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { HttpApiEvent, HttpApiResult } from '../../lib/clientSetup/lambda.ts';
import { mtaStsPolicyText } from '../../lib/clientSetup/mtaSts.ts';
import { mailDomainRecords } from '../../lib/clientSetup/records.ts';
import { child, parseXml } from '../support/pythonParsers.ts';

let server: Server;
let port = 0;

before(async () => {
  Object.assign(process.env, {
    POSTERN_MAIL_DOMAIN: 'example.com',
    POSTERN_HOSTNAME: 'mail.example.com',
    POSTERN_MTA_STS_MODE: 'enforce',
    POSTERN_MTA_STS_MAX_AGE: '86400',
  });
  const { handler } = (await import('../../functions/clientconfig/index.ts')) as {
    handler: (e: HttpApiEvent) => Promise<HttpApiResult>;
  };
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const event: HttpApiEvent = {
        rawPath: url.pathname,
        body: chunks.length ? Buffer.concat(chunks).toString('base64') : undefined,
        isBase64Encoded: chunks.length > 0,
        headers: {},
        requestContext: {
          domainName: (req.headers.host ?? '').replace(/:\d+$/, ''),
          http: { method: req.method ?? 'GET' },
        },
      };
      handler(event).then((result) => {
        res.writeHead(result.statusCode, result.headers);
        res.end(result.body);
      });
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

interface CurlResult {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

/** curl in a child process (asynchronously: the server answers from this process's event loop). */
async function curl(host: string, path: string, extra: readonly string[] = []): Promise<CurlResult> {
  const out = await new Promise<string>((done, fail) => {
    execFile(
      'curl',
      [
        '-sS',
        '-H',
        `Host: ${host}`,
        '-o',
        '-',
        '-w',
        '\n%{http_code} %{content_type}',
        ...extra,
        `http://127.0.0.1:${port}${path}`,
      ],
      { timeout: 10_000 },
      (err, stdout) => (err ? fail(err) : done(stdout)),
    );
  });
  const cut = out.lastIndexOf('\n');
  const [status, ...type] = out.slice(cut + 1).split(' ');
  return { status: Number(status), type: type.join(' '), body: out.slice(0, cut) };
}

describe('clientconfig over HTTP', () => {
  it('RFC 8461 §3.3: serves the policy as text/plain at /.well-known/mta-sts.txt of mta-sts.<domain>, matching the TXT id', async () => {
    const res = await curl('mta-sts.example.com', '/.well-known/mta-sts.txt');
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain/);
    const policy = { mode: 'enforce', mx: ['mail.example.com'], maxAgeSeconds: 86400 } as const;
    assert.equal(res.body, mtaStsPolicyText(policy));
    const txt = mailDomainRecords({
      domain: 'example.com',
      host: 'mail.example.com',
      ipv4: [],
      ipv6: [],
      outbound: { ses: true, fromHost: false },
      dkimKeys: [],
      mtaSts: policy,
      caaIssuers: [],
    }).find((r) => r.name === '_mta-sts.example.com.');
    assert.ok(
      txt?.type === 'TXT' && txt.text.endsWith(createHash('sha256').update(res.body).digest('hex').slice(0, 32)),
    );
  });

  it('serves autoconfig at both paths of autoconfig.<domain>', async () => {
    for (const path of ['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml']) {
      const res = await curl('autoconfig.example.com', `${path}?emailaddress=a%40example.com`);
      assert.equal(res.status, 200, path);
      assert.match(res.type, /^application\/xml/);
      assert.equal(child(parseXml(res.body), 'emailProvider').attrib.id, 'example.com');
    }
  });

  it('answers an autodiscover POST (either path case) with the settings, a GET with 405', async () => {
    const body =
      '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>alice@example.com</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>';
    const res = await curl('autodiscover.example.com', '/Autodiscover/Autodiscover.xml', [
      '-X',
      'POST',
      '-H',
      'Content-Type: text/xml',
      '--data-binary',
      body,
    ]);
    assert.equal(res.status, 200);
    assert.match(res.body, /<Server>mail\.example\.com<\/Server>/);
    assert.match(res.body, /<LoginName>alice@example\.com<\/LoginName>/);
    parseXml(res.body);
    assert.equal((await curl('autodiscover.example.com', '/autodiscover/autodiscover.xml')).status, 405);
  });

  it('answers 404 for another host or path, 405 for a POST of the policy, and HEAD without a body', async () => {
    assert.equal((await curl('example.com', '/.well-known/mta-sts.txt')).status, 404);
    assert.equal((await curl('mta-sts.example.com', '/mta-sts.txt')).status, 404);
    assert.equal((await curl('autoconfig.example.com', '/.well-known/mta-sts.txt')).status, 404);
    assert.equal(
      (await curl('mta-sts.example.com', '/.well-known/mta-sts.txt', ['-X', 'POST', '-d', 'x'])).status,
      405,
    );
    const head = await curl('mta-sts.example.com', '/.well-known/mta-sts.txt', ['-I']);
    assert.equal(head.status, 200);
    assert.doesNotMatch(head.body, /STSv1/);
  });
});
