import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { buildProxyV2 } from '../../lib/net/proxyProtocol.ts';
import { looksLikeProxyHeader } from '../../lib/net/tcpListener.ts';
import { claimsAuthserv } from '../../lib/smtp/authservId.ts';
import { DataPolicy, type DataPolicyOptions, MAX_HELD_FIELD } from '../../lib/smtp/dataStream.ts';
import { addressLiteral, buildReceived, rfc5322Date } from '../../lib/smtp/received.ts';

const OPTS: DataPolicyOptions = {
  maxSize: 1 << 20,
  maxLineLength: 1000,
  maxReceived: 5,
  authservId: 'mx.test.example',
};

/** Feeds `text` in chunks of the given sizes (cycled); returns the stored bytes and the policy. */
function run(text: string | Buffer, sizes: number[] = [1 << 20], opts: Partial<DataPolicyOptions> = {}) {
  const p = new DataPolicy({ ...OPTS, ...opts });
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const out: Buffer[] = [];
  let pos = 0;
  for (let i = 0; pos < buf.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(...p.push(buf.subarray(pos, pos + n)));
    pos += n;
  }
  out.push(...p.end());
  return { p, stored: Buffer.concat(out) };
}

const MESSAGE = 'From: a@b.test\r\nSubject: x\r\n\r\nline one\r\n.dot line\r\n..two dots\r\n';

describe('DataPolicy', () => {
  test('passes a well-formed message through unchanged, whatever the chunking', () => {
    for (const sizes of [[1], [2], [3], [7], [1, 5, 2], [1 << 20]]) {
      const { p, stored } = run(MESSAGE, sizes);
      assert.equal(p.violation, undefined, `chunks ${sizes}`);
      assert.equal(stored.toString(), MESSAGE, `chunks ${sizes}`);
      assert.equal(p.size, Buffer.byteLength(MESSAGE));
      assert.equal(p.passed, Buffer.byteLength(MESSAGE));
    }
  });

  // RFC 5321 §2.3.8: bare CR and LF are not line ends; published SMTP smuggling patterns
  const smuggling: [string, string][] = [
    ['<LF>.<LF>', 'Subject: x\r\n\r\nhello\n.\nMAIL FROM:<evil@x>\r\n'],
    ['<LF>.<CR><LF>', 'Subject: x\r\n\r\nhello\n.\r\nMAIL FROM:<evil@x>\r\n'],
    ['<CR>.<CR><LF>', 'Subject: x\r\n\r\nhello\r.\r\nMAIL FROM:<evil@x>\r\n'],
    ['<CR><LF>.<CR>', 'Subject: x\r\n\r\nhello\r\n.\rMAIL FROM:<evil@x>\r\n'],
    ['bare LF in header', 'Subject: x\nFrom: a@b\r\n\r\nbody\r\n'],
    ['bare CR at the end of a chunk', 'Subject: x\r\n\r\nbody\rX\r\n'],
  ];
  for (const [name, text] of smuggling) {
    test(`refuses ${name} (SMTP smuggling policy: reject)`, () => {
      for (const sizes of [[1], [3], [1 << 20]]) {
        const { p, stored } = run(text, sizes);
        assert.equal(p.violation, 'bareLineEnding', `chunks ${sizes}`);
        // nothing after the offending byte is ever passed on (and the upload is aborted anyway)
        assert.equal(stored.includes('MAIL FROM'), false);
      }
    });
  }

  test('refuses <CR><LF>NUL.<CR><LF> (NUL in text, RFC 6152)', () => {
    const { p } = run('Subject: x\r\n\r\nhello\r\n\x00.\r\nQUIT\r\n');
    assert.equal(p.violation, 'nul');
  });

  test('a CR LF split across chunks is a line end, not a bare CR', () => {
    const { p } = run('Subject: x\r\n\r\nab\r\ncd\r\n', [16, 1, 1, 1]);
    assert.equal(p.violation, undefined);
  });

  test('size over the limit is refused and nothing more is passed', () => {
    const { p, stored } = run(`Subject: x\r\n\r\n${'a'.repeat(200)}\r\n`, [10], { maxSize: 100 });
    assert.equal(p.violation, 'size');
    assert.ok(stored.length <= 100);
    assert.ok(p.size > 100);
  });

  test('lines longer than the limit are refused (RFC 5321 §4.5.3.1.6)', () => {
    assert.equal(run(`Subject: x\r\n\r\n${'a'.repeat(998)}\r\n`, [7]).p.violation, undefined);
    assert.equal(run(`Subject: x\r\n\r\n${'a'.repeat(999)}\r\n`, [7]).p.violation, 'lineTooLong');
    assert.equal(run(`Subject: x\r\n\r\n${'a'.repeat(5000)}`, [7]).p.violation, 'lineTooLong');
  });

  test('counts Received fields in the header only; more than the limit is a loop (RFC 5321 §6.3)', () => {
    const five = 'Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n'.repeat(5);
    assert.equal(run(`${five}Subject: x\r\n\r\nReceived: in the body\r\n`).p.violation, undefined);
    const six = `received: from x\r\n\tby y; date\r\n${five}Subject: x\r\n\r\n`;
    const { p } = run(six, [3]);
    assert.equal(p.violation, 'loop');
    assert.equal(p.received, 6);
  });

  test('removes Authentication-Results that claim our authserv-id, keeps others (RFC 8601 §5)', () => {
    const text =
      'Authentication-Results: mx.test.example;\r\n dkim=pass header.d=forged.test\r\n' +
      'Authentication-Results: other.example; spf=pass\r\n' +
      'authentication-results: (comment) MX.TEST.EXAMPLE; dmarc=pass\r\n' +
      'Subject: x\r\n\r\nAuthentication-Results: mx.test.example; in the body stays\r\n';
    for (const sizes of [[1], [5], [1 << 20]]) {
      const { p, stored } = run(text, sizes);
      assert.equal(p.violation, undefined);
      assert.equal(
        stored.toString(),
        'Authentication-Results: other.example; spf=pass\r\nSubject: x\r\n\r\nAuthentication-Results: mx.test.example; in the body stays\r\n',
      );
      assert.equal(p.size, Buffer.byteLength(text));
    }
  });

  test('a message without a body or without an empty line is passed as is', () => {
    assert.equal(run('Subject: only a header\r\n').stored.toString(), 'Subject: only a header\r\n');
    assert.equal(run('').stored.length, 0);
    assert.equal(
      run('Authentication-Results: x.test; spf=none\r\n').stored.toString(),
      'Authentication-Results: x.test; spf=none\r\n',
    );
  });

  test('the digest covers the seed and the text as sent', () => {
    const p = new DataPolicy({ ...OPTS, hashSeed: 'a@b.test' });
    p.push(Buffer.from(MESSAGE));
    p.end();
    assert.equal(p.digest(), createHash('sha256').update(`a@b.test\0${MESSAGE}`).digest('hex'));
  });

  test('claimsAuthserv reads the authserv-id after comments and folding', () => {
    assert.equal(claimsAuthserv('Authentication-Results: mx.test.example; none', 'mx.test.example'), true);
    assert.equal(claimsAuthserv('Authentication-Results:\r\n mx.test.example 1; none', 'MX.test.example'), true);
    assert.equal(claimsAuthserv('Authentication-Results: mx.test.example.evil; none', 'mx.test.example'), false);
    // RFC 5322 §3.2.2: comments nest and may quote ")"; RFC 8601 §2.2: the id may be a quoted-string
    assert.equal(
      claimsAuthserv('Authentication-Results: (a (b) \\) c) mx.test.example; none', 'mx.test.example'),
      true,
    );
    assert.equal(claimsAuthserv('Authentication-Results: "mx.test.example"; none', 'mx.test.example'), true);
    assert.equal(claimsAuthserv('Authentication-Results: ; mx.test.example', 'mx.test.example'), false);
    // ends inside a comment: a reader that does not nest comments would see mx.test.example, so it counts
    assert.equal(claimsAuthserv('Authentication-Results: (x (y) mx.test.example; dkim=pass', 'mx.test.example'), true);
    assert.equal(claimsAuthserv('Authentication-Results: (x) other.example (y; dkim=pass', 'mx.test.example'), false);
  });
});

/** A header field of about `size` octets: `first`, then folded lines of `x` until it is long enough. */
function longField(first: string, size: number): string {
  const fold = ` ${'x'.repeat(76)}\r\n`;
  return `${first}\r\n${fold.repeat(Math.ceil(size / fold.length))}`;
}

describe('DataPolicy: forged verdict fields of any length (RFC 8601 §5)', () => {
  const BODY = 'Subject: x\r\n\r\nbody\r\n';

  test('a forged Authentication-Results padded to 70 KiB is removed, whatever the chunking', () => {
    const forged = longField('Authentication-Results: mx.test.example; dkim=pass header.d=bank.test', 70 * 1024);
    assert.ok(forged.length > MAX_HELD_FIELD);
    for (const sizes of [[1], [7], [4096], [1 << 20]]) {
      const { p, stored } = run(`${forged}${BODY}`, sizes);
      assert.equal(p.violation, undefined);
      assert.equal(stored.toString(), BODY, `chunks ${sizes}`);
      assert.equal(p.removed, 1);
    }
  });

  test('a folded forged Authentication-Results is removed, the id after folding and a comment', () => {
    const forged =
      'Authentication-Results:\r\n (a comment\r\n  (nested)) \r\n\tMX.test.example;\r\n dmarc=pass\r\n' +
      // ends inside a comment: a reader that does not nest comments would see our id
      'Authentication-Results: (x (y) mx.test.example;\r\n dkim=pass\r\n';
    for (const sizes of [[1], [3], [1 << 20]]) {
      const { p, stored } = run(`${forged}${BODY}`, sizes);
      assert.equal(stored.toString(), BODY, `chunks ${sizes}`);
      assert.equal(p.removed, 2);
    }
  });

  test('an Authentication-Results whose id is still unread after the cap is removed', () => {
    const padded = longField('Authentication-Results: (', 70 * 1024).replace(/\r\n$/, ') mx.test.example; x\r\n');
    const { p, stored } = run(`${padded}${BODY}`, [1000]);
    assert.equal(stored.toString(), BODY);
    assert.equal(p.removed, 1);
  });

  test("the sender's X-Spam-* fields are removed, short or long; other fields are not", () => {
    const text =
      'X-Spam-Flag: NO\r\n' +
      'x-spam-status: No, score=-5.0\r\n\ttests=NONE\r\n' +
      longField('X-Spam-Report: padded', 100 * 1024) +
      'X-Spammy: stays\r\n' +
      BODY;
    for (const sizes of [[1], [5], [1 << 20]]) {
      const { p, stored } = run(text, sizes);
      assert.equal(stored.toString(), `X-Spammy: stays\r\n${BODY}`, `chunks ${sizes}`);
      assert.equal(p.removed, 3);
    }
  });

  test('other long header fields, and Authentication-Results of other hosts, are kept byte for byte', () => {
    const text =
      longField('X-Long: start', 200 * 1024) +
      longField('Authentication-Results: other.example; spf=pass', 100 * 1024) +
      longField('Authentication-Results: (', 30 * 1024).replace(/\r\n$/, ') other.example; x\r\n') +
      BODY;
    for (const sizes of [[1], [999], [1 << 20]]) {
      const { p, stored } = run(text, sizes);
      assert.equal(p.violation, undefined);
      assert.ok(stored.equals(Buffer.from(text)), `chunks ${sizes}`);
      assert.equal(p.removed, 0);
    }
  });

  test('memory: a huge header fed in small chunks never holds more than the cap and one line', () => {
    const fields = [
      longField('Authentication-Results: mx.test.example; spf=pass', 2 << 20),
      longField('Authentication-Results: (', 2 << 20),
      longField('Authentication-Results: other.example;', 2 << 20),
      longField('X-Spam-Status: Yes', 2 << 20),
      longField('X-Other: a', 2 << 20),
    ];
    const text = Buffer.from(`${fields.join('')}${BODY}`);
    const p = new DataPolicy({ ...OPTS, maxSize: 16 << 20 });
    let most = 0;
    let stored = 0;
    for (let pos = 0; pos < text.length; pos += 512) {
      for (const b of p.push(text.subarray(pos, pos + 512))) stored += b.length;
      most = Math.max(most, p.heldBytes);
    }
    for (const b of p.end()) stored += b.length;
    assert.equal(p.violation, undefined);
    assert.ok(most <= MAX_HELD_FIELD + OPTS.maxLineLength, `held ${most}`);
    assert.ok(most > 0);
    assert.equal(p.removed, 3);
    assert.equal(stored, Buffer.byteLength(fields[2]) + Buffer.byteLength(fields[4]) + BODY.length);
  });
});

describe('Received header (RFC 5321 §4.4)', () => {
  test('has from, by, with, id, for and a date-time', () => {
    const h = buildReceived({
      helo: 'client.example',
      clientIp: '::ffff:192.0.2.7',
      by: 'mx.test.example',
      protocol: 'ESMTPS',
      id: '01ABC',
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
      recipient: 'bob@ours.test',
      date: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
    });
    assert.equal(
      h,
      'Received: from client.example ([192.0.2.7])\r\n\tby mx.test.example (Postern) with ESMTPS id 01ABC\r\n' +
        '\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n\tfor <bob@ours.test>;\r\n\tThu, 2 Jan 2025 03:04:05 +0000\r\n',
    );
  });

  test('a HELO that is not a host name only appears, made safe, in a comment', () => {
    const h = buildReceived({
      helo: 'bad (name) \\ x',
      clientIp: '2001:db8::1',
      by: 'mx',
      protocol: 'SMTP',
      id: '1',
      date: new Date(0),
    });
    assert.match(h, /^Received: from \[IPv6:2001:db8::1\] \(\[IPv6:2001:db8::1\] helo=bad\?\?name\?\?\?\?x\)\r\n/);
    assert.equal(addressLiteral('nonsense'), '[unknown]');
    assert.equal(rfc5322Date(new Date(0)), 'Thu, 1 Jan 1970 00:00:00 +0000');
  });
});

describe('PROXY header detection on a listener without PROXY', () => {
  test('recognises v1 and v2 headers, not SMTP', () => {
    assert.equal(
      looksLikeProxyHeader(buildProxyV2({ address: '1.2.3.4', port: 1 }, { address: '5.6.7.8', port: 25 })),
      true,
    );
    assert.equal(looksLikeProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 25\r\n')), true);
    assert.equal(looksLikeProxyHeader(Buffer.from('EHLO client.example\r\n')), false);
    assert.equal(looksLikeProxyHeader(Buffer.from('\r\n')), false);
  });
});
