import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { dnsLines } from '../../lib/admin/commands.ts';
import { dnsRecords, dnsZoneLines } from '../../lib/admin/dns.ts';
import { InvalidInputError } from '../../lib/core/errors.ts';
import { parseZone, type ZoneRecord } from '../support/pythonParsers.ts';

/** Zone lines without comments, whitespace collapsed, for comparisons that do not depend on column padding. */
const records = (lines: string[]) => lines.filter((l) => !l.startsWith(';')).map((l) => l.split(/\s+/).join(' '));
const of = (zone: readonly ZoneRecord[], type: string, name?: string) =>
  zone.filter((r) => r.type === type && (name === undefined || r.name === name));

describe('admin dns records', () => {
  it('lists MX, SPF, DMARC, MTA-STS, TLS-RPT, SRV and CAA; host mail.<domain> by default, no A record without --ip', () => {
    const lines = dnsZoneLines('example.com');
    const zone = parseZone(lines, 'example.com.');
    assert.deepEqual(
      of(zone, 'MX').map((r) => `${r.name} ${r.data}`),
      ['example.com. 10 mail.example.com.'],
    );
    const mtaSts = of(zone, 'TXT', '_mta-sts.example.com.')[0]?.text;
    assert.deepEqual(
      of(zone, 'TXT')
        .map((r) => `${r.name} ${r.text}`)
        .sort(),
      [
        '_dmarc.example.com. v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com',
        `_mta-sts.example.com. ${mtaSts}`,
        '_smtp._tls.example.com. v=TLSRPTv1; rua=mailto:postmaster@example.com',
        'example.com. v=spf1 mx -all',
      ],
    );
    assert.match(of(zone, 'TXT', '_mta-sts.example.com.')[0].text!, /^v=STSv1; id=[A-Za-z0-9]{1,32}$/);
    assert.equal(lines[0], '; DNS records for example.com');
    assert.ok(lines.includes('; DKIM: example.com has no key yet: npm run admin -- dkim rotate example.com'));
    assert.deepEqual(of(zone, 'A'), []);
    assert.ok(!lines.some((l) => l.includes('PTR')));
  });

  it('RFC 6186 §3.4 / RFC 8314 §5.1: SRV for every client service, implicit TLS at the lower (preferred) priority', () => {
    const srv = Object.fromEntries(
      of(parseZone(dnsZoneLines('example.com'), 'example.com.'), 'SRV').map((r) => [r.name, r.data]),
    );
    assert.deepEqual(srv, {
      '_imaps._tcp.example.com.': '0 1 993 mail.example.com.',
      '_imap._tcp.example.com.': '10 1 143 mail.example.com.',
      '_pop3s._tcp.example.com.': '20 1 995 mail.example.com.',
      '_pop3._tcp.example.com.': '30 1 110 mail.example.com.',
      '_submissions._tcp.example.com.': '0 1 465 mail.example.com.',
      '_submission._tcp.example.com.': '10 1 587 mail.example.com.',
    });
  });

  it("CAA allows Let's Encrypt and Amazon, incidents reported to postmaster", () => {
    const caa = of(parseZone(dnsZoneLines('example.com'), 'example.com.'), 'CAA', 'example.com.').map((r) => r.data);
    assert.deepEqual(caa, [
      '0 issue "letsencrypt.org"',
      '0 issue "amazon.com"',
      '0 iodef "mailto:postmaster@example.com"',
    ]);
  });

  it('prints the MTA-STS policy whose id the TXT record carries, and where to serve it', () => {
    const lines = dnsZoneLines('example.com');
    assert.ok(lines.some((l) => l.includes('https://mta-sts.example.com/.well-known/mta-sts.txt')));
    assert.deepEqual(
      lines.filter((l) => /^; {3}\w+: /.test(l)),
      [';   version: STSv1', ';   mode: testing', ';   mx: mail.example.com', ';   max_age: 604800'],
    );
    const policy = lines
      .filter((l) => /^; {3}\w+: /.test(l))
      .map((l) => `${l.slice(4)}\r\n`)
      .join('');
    const id = createHash('sha256').update(policy).digest('hex').slice(0, 32);
    assert.ok(records(lines).includes(`_mta-sts.example.com. IN TXT "v=STSv1; id=${id}"`));
  });

  it('with --ip adds the host A record and an ip4 term to SPF', () => {
    const lines = dnsZoneLines('example.com', { host: 'mx.example.com', ip: '203.0.113.7' });
    assert.ok(records(lines).includes('mx.example.com. IN A 203.0.113.7'));
    assert.ok(records(lines).includes('example.com. IN TXT "v=spf1 mx ip4:203.0.113.7 -all"'));
    assert.ok(lines.some((l) => l.startsWith('; PTR') && l.includes('203.0.113.7') && l.includes('mx.example.com.')));
  });

  it('with outbound ses: SPF includes amazonses.com only (the host does not send), and says to verify the SES identity', () => {
    const lines = dnsZoneLines('example.com', { ip: '203.0.113.7', outbound: 'ses' });
    assert.ok(records(lines).includes('example.com. IN TXT "v=spf1 include:amazonses.com -all"'));
    assert.ok(
      lines.some((l) => l.startsWith('; SES:') && l.includes('create-email-identity --email-identity example.com')),
    );
    assert.ok(!dnsZoneLines('example.com').some((l) => l.startsWith('; SES:')));
  });

  it('handles an IPv6 address with AAAA and ip6', () => {
    const recs = dnsRecords('example.com', { ip: '2001:db8::25' });
    assert.deepEqual(
      recs.filter((r) => r.type === 'AAAA').map((r) => r.type === 'AAAA' && `${r.name} ${r.addresses.join()}`),
      ['mail.example.com. 2001:db8::25'],
    );
    const spf = recs.find((r) => r.type === 'TXT' && r.name === 'example.com.');
    assert.equal(spf?.type === 'TXT' && spf.text, 'v=spf1 mx ip6:2001:db8::25 -all');
  });

  it('normalises the domain and host (case, IDNA)', () => {
    const recs = dnsRecords('Bücher.Example', { host: 'MAIL.Bücher.Example' });
    assert.equal(recs[0].name, 'xn--bcher-kva.example.');
    assert.equal(recs[0].type === 'MX' && recs[0].target, 'mail.xn--bcher-kva.example.');
  });

  it('aligns the record columns', () => {
    const lines = dnsZoneLines('example.com', { ip: '203.0.113.7' }).filter((l) => !l.startsWith(';'));
    const column = lines.map((l) => l.indexOf(' IN '));
    assert.ok(column.every((c) => c === column[0] && c > 0));
  });

  it('refuses a bad domain, host, address or outbound route', () => {
    assert.throws(() => dnsZoneLines('not a domain'), InvalidInputError);
    assert.throws(() => dnsZoneLines('localhost'), InvalidInputError);
    assert.throws(() => dnsZoneLines('example.com', { host: 'bad host' }), InvalidInputError);
    assert.throws(() => dnsZoneLines('example.com', { ip: '203.0.113' }), InvalidInputError);
    assert.throws(() => dnsZoneLines('example.com', { ip: 'mail.example.com' }), InvalidInputError);
    assert.throws(() => dnsLines('example.com', { outbound: 'smtp' }, {}), /--outbound must be ses or direct/);
  });

  it('takes the default host from POSTERN_HOSTNAME, and --host over it', () => {
    const env = { POSTERN_HOSTNAME: 'mx1.provider.net' };
    assert.ok(records(dnsLines('example.com', {}, env)).includes('example.com. IN MX 10 mx1.provider.net.'));
    assert.ok(records(dnsLines('example.com', {}, {})).includes('example.com. IN MX 10 mail.example.com.'));
    assert.ok(
      records(dnsLines('example.com', { host: 'in.example.com' }, env)).includes(
        'example.com. IN MX 10 in.example.com.',
      ),
    );
  });
});
