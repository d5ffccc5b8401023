import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dnsLines } from '../../lib/admin/commands.ts';
import { dnsRecords, dnsZoneLines } from '../../lib/admin/dns.ts';
import { InvalidInputError } from '../../lib/core/errors.ts';

/** Zone lines without comments, whitespace collapsed, for comparisons that do not depend on column padding. */
const records = (lines: string[]) => lines.filter((l) => !l.startsWith(';')).map((l) => l.split(/\s+/).join(' '));

describe('admin dns records', () => {
  it('lists MX, SPF and DMARC for a domain, host mail.<domain> by default, no A record without --ip', () => {
    const lines = dnsZoneLines('example.com');
    assert.deepEqual(records(lines), [
      'example.com. IN MX 10 mail.example.com.',
      'example.com. IN TXT "v=spf1 mx -all"',
      '_dmarc.example.com. IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com"',
    ]);
    assert.equal(lines[0], '; DNS records for example.com');
    assert.ok(lines.includes('; DKIM: example.com has no key yet: npm run admin -- dkim rotate example.com'));
    assert.ok(!lines.some((l) => /\bIN\s+A\b/.test(l)));
    assert.ok(!lines.some((l) => l.includes('PTR')));
  });

  it('with --ip adds the host A record and an ip4 term to SPF', () => {
    const lines = dnsZoneLines('example.com', { host: 'mx.example.com', ip: '203.0.113.7' });
    assert.deepEqual(records(lines), [
      'example.com. IN MX 10 mx.example.com.',
      'mx.example.com. IN A 203.0.113.7',
      'example.com. IN TXT "v=spf1 mx ip4:203.0.113.7 -all"',
      '_dmarc.example.com. IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com"',
    ]);
    assert.ok(lines.some((l) => l.startsWith('; PTR') && l.includes('203.0.113.7') && l.includes('mx.example.com.')));
  });

  it('handles an IPv6 address with AAAA and ip6', () => {
    const recs = dnsRecords('example.com', { ip: '2001:db8::25' });
    assert.deepEqual(
      recs.map((r) => `${r.name} ${r.type} ${r.data}`),
      [
        'example.com. MX 10 mail.example.com.',
        'mail.example.com. AAAA 2001:db8::25',
        'example.com. TXT "v=spf1 mx ip6:2001:db8::25 -all"',
        '_dmarc.example.com. TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com"',
      ],
    );
  });

  it('normalises the domain and host (case, IDNA)', () => {
    const recs = dnsRecords('Bücher.Example', { host: 'MAIL.Bücher.Example' });
    assert.equal(recs[0].name, 'xn--bcher-kva.example.');
    assert.equal(recs[0].data, '10 mail.xn--bcher-kva.example.');
    assert.ok(recs.at(-1)!.data.includes('postmaster@xn--bcher-kva.example'));
  });

  it('aligns the record columns', () => {
    const lines = dnsZoneLines('example.com', { ip: '203.0.113.7' }).filter((l) => !l.startsWith(';'));
    const column = lines.map((l) => l.indexOf(' IN '));
    assert.ok(column.every((c) => c === column[0] && c > 0));
  });

  it('refuses a bad domain, host or address', () => {
    assert.throws(() => dnsZoneLines('not a domain'), InvalidInputError);
    assert.throws(() => dnsZoneLines('localhost'), InvalidInputError);
    assert.throws(() => dnsZoneLines('example.com', { host: 'bad host' }), InvalidInputError);
    assert.throws(() => dnsZoneLines('example.com', { ip: '203.0.113' }), InvalidInputError);
    assert.throws(() => dnsZoneLines('example.com', { ip: 'mail.example.com' }), InvalidInputError);
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
