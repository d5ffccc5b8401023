/**
 * The pieces of the accept path's limits that need no socket: RFC 5952 text of PROXY v2 IPv6 addresses, the
 * connection caps against the descriptor limit, the stress marks of a listener, and the settings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../lib/core/config.ts';
import { fitConnectionCaps, parseNofileSoftLimit } from '../../lib/net/connectionBudget.ts';
import { ConnectionGauge } from '../../lib/net/listenerLoad.ts';
import { buildProxyV2, formatIpv6, parseProxyV2 } from '../../lib/net/proxyProtocol.ts';

/** 16 bytes from eight groups. */
const bytesOf = (groups: number[]) => {
  const b = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) b.writeUInt16BE(g, i * 2);
  return b;
};

describe('formatIpv6: RFC 5952 text form', () => {
  const cases: [number[], string, string][] = [
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1', '§4.1 no leading zeros'],
    [[0x2001, 0xdb8, 0, 0, 0, 0, 2, 1], '2001:db8::2:1', '§4.2.1 shorten as much as possible'],
    [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1', '§4.2.2 one zero group is not shortened'],
    [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1', '§4.2.3 the longest run is shortened'],
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1', '§4.2.3 the first of equal runs'],
    [
      [0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 0xaaaa],
      '2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa',
      '§4.3 lowercase',
    ],
    [[1, 0, 0, 2, 0, 0, 0, 3], '1:0:0:2::3', 'the longest run, not the first'],
    [[0, 0, 0, 0, 0, 0, 0, 0], '::', 'unspecified'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1', 'loopback'],
    [[1, 0, 0, 0, 0, 0, 0, 0], '1::', 'run at the end'],
    [[0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0280], '::ffff:192.0.2.128', '§5 IPv4-mapped in dotted form'],
  ];
  for (const [groups, text, why] of cases) {
    it(`${text} (${why})`, () => assert.equal(formatIpv6(bytesOf(groups)), text));
  }

  it('agrees with the WHATWG URL serializer (also RFC 5952) on addresses full of zero runs', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 2000; n++) {
      const groups = Array.from({ length: 8 }, () => (next() % 3 === 0 ? next() % 0x10000 : 0));
      if (groups.slice(0, 6).join() === '0,0,0,0,0,65535') continue; // URL keeps mapped addresses in hex
      const expected = new URL(`http://[${groups.map((g) => g.toString(16)).join(':')}]/`).hostname.slice(1, -1);
      assert.equal(formatIpv6(bytesOf(groups)), expected, groups.join(','));
    }
  });

  it('a PROXY v2 header over IPv6 yields the RFC 5952 form of both addresses', () => {
    const header = buildProxyV2({ address: '1:0:0:2:0:0:0:3', port: 4000 }, { address: '2001:db8:0:0:1::1', port: 25 });
    const parsed = parseProxyV2(header);
    assert.equal(parsed?.info.sourceAddress, '1:0:0:2::3');
    assert.equal(parsed?.info.destinationAddress, '2001:db8::1:0:0:1');
    assert.equal(parsed?.info.sourcePort, 4000);
  });
});

describe('connection caps against the file-descriptor limit', () => {
  const net = loadConfig({ POSTERN_INVOKER: 'local' }).net;

  it('reads the soft limit of /proc/self/limits', () => {
    const limits = [
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max processes             95000                95000                processes ',
      'Max open files            4096                 524288               files     ',
    ].join('\n');
    assert.equal(parseNofileSoftLimit(limits), 4096);
    assert.equal(parseNofileSoftLimit(limits.replace('4096 ', 'unlimited')), undefined);
    assert.equal(parseNofileSoftLimit('nothing here'), undefined);
  });

  it('keeps the caps that fit: 6,000 connections by default, 1,024 descriptors kept for storage', () => {
    const fit = fitConnectionCaps(net, 65_535);
    assert.equal(fit.scaled, false);
    assert.equal(fit.needed, 6000);
    assert.deepEqual(fit.maxConnections, net.maxConnections);
    assert.equal(fitConnectionCaps(net, 6000 + 1024).scaled, false);
    assert.equal(fitConnectionCaps(net, undefined).scaled, false);
  });

  it('scales them down in proportion when they do not fit, leaving the reserve free', () => {
    const fit = fitConnectionCaps(net, 4096);
    assert.equal(fit.scaled, true);
    assert.equal(fit.available, 4096 - 1024);
    const { smtp, submission, pop3, imap } = fit.maxConnections;
    const total = smtp + 2 * submission + 2 * pop3 + 2 * imap;
    assert.ok(total <= 3072, `total ${total}`);
    assert.ok(total > 3000, `nearly all of what is left is used: ${total}`);
    assert.equal(smtp, pop3);
    assert.equal(submission, Math.floor(smtp / 2));
  });

  it('never over the limit, even where caps are raised to one; fails when not one per listener fits', () => {
    const lopsided = { ...net, fdReserve: 0, maxConnections: { smtp: 1000, submission: 1, pop3: 1, imap: 1 } };
    const fit = fitConnectionCaps(lopsided, 10);
    const { smtp, submission, pop3, imap } = fit.maxConnections;
    assert.ok(smtp + 2 * (submission + pop3 + imap) <= 10);
    assert.ok(Math.min(smtp, submission, pop3, imap) >= 1);
    assert.throws(() => fitConnectionCaps(net, 1030), /file-descriptor limit \(1030\)/);
  });
});

describe('listener stress marks', () => {
  it('stress from 75% of the cap until below 65%; shorter idle timeouts only then', () => {
    const changes: boolean[] = [];
    const gauge = new ConnectionGauge(20, 10_000, (stressed) => changes.push(stressed));
    let notified = 0;
    gauge.watch(() => notified++);
    for (let i = 0; i < 14; i++) gauge.opened();
    assert.equal(gauge.stressed, false);
    assert.equal(gauge.idleTimeout(300_000), 300_000);
    gauge.opened(); // 15 of 20
    assert.equal(gauge.stressed, true);
    assert.equal(gauge.idleTimeout(300_000), 10_000);
    assert.equal(gauge.idleTimeout(5000), 5000, 'never longer than the normal timeout');
    for (let i = 0; i < 5; i++) gauge.opened();
    assert.equal(gauge.full, true);
    for (let i = 0; i < 7; i++) gauge.closed(); // 13 of 20
    assert.equal(gauge.stressed, true, 'no flapping just below the mark');
    gauge.closed(); // 12 of 20
    assert.equal(gauge.stressed, false);
    assert.deepEqual(changes, [true, false]);
    assert.equal(notified, 1, 'idle timers are re-armed when stress begins, not when it ends');
  });
});

describe('settings of the limits', () => {
  it('documented defaults a real MTA tolerates', () => {
    const c = loadConfig({ POSTERN_INVOKER: 'local' });
    assert.deepEqual(c.net.maxConnections, { smtp: 1000, submission: 500, pop3: 1000, imap: 1000 });
    assert.equal(c.net.stressIdleTimeoutMs, 10_000);
    assert.equal(c.net.tlsHandshakeTimeoutMs, 10_000);
    assert.equal(c.net.fdReserve, 1024);
    assert.equal(c.smtp.lineTimeoutMs, 60_000);
    assert.equal(c.smtp.minDataRate, 500);
    assert.equal(c.smtp.dataRateWindowMs, 60_000);
    assert.equal(c.smtp.sessionTimeoutMs, 3_600_000);
    assert.equal(c.smtp.maxJunkCommands, 100);
  });

  it('each by its name', () => {
    const c = loadConfig({
      POSTERN_INVOKER: 'local',
      POSTERN_MAX_CONNECTIONS_SMTP: '5',
      POSTERN_MAX_CONNECTIONS_SUBMISSION: '6',
      POSTERN_MAX_CONNECTIONS_POP3: '7',
      POSTERN_MAX_CONNECTIONS_IMAP: '8',
      POSTERN_FD_RESERVE: '9',
      POSTERN_STRESS_IDLE_TIMEOUT_MS: '10',
      POSTERN_TLS_HANDSHAKE_TIMEOUT_MS: '11',
      POSTERN_SMTP_LINE_TIMEOUT_MS: '12',
      POSTERN_SMTP_MIN_DATA_RATE: '13',
      POSTERN_SMTP_DATA_RATE_WINDOW_MS: '14',
      POSTERN_SMTP_SESSION_TIMEOUT_MS: '15',
      POSTERN_SMTP_MAX_JUNK_COMMANDS: '16',
    });
    assert.deepEqual(c.net.maxConnections, { smtp: 5, submission: 6, pop3: 7, imap: 8 });
    assert.deepEqual([c.net.fdReserve, c.net.stressIdleTimeoutMs, c.net.tlsHandshakeTimeoutMs], [9, 10, 11]);
    assert.deepEqual(
      [
        c.smtp.lineTimeoutMs,
        c.smtp.minDataRate,
        c.smtp.dataRateWindowMs,
        c.smtp.sessionTimeoutMs,
        c.smtp.maxJunkCommands,
      ],
      [12, 13, 14, 15, 16],
    );
    assert.throws(
      () => loadConfig({ POSTERN_INVOKER: 'local', POSTERN_MAX_CONNECTIONS_POP3: '0' }),
      /POSTERN_MAX_CONNECTIONS_POP3/,
    );
  });
});
