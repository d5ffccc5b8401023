import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { looksLikeProxyHeader } from '../../lib/gateway/tcpListener.ts';
import { buildProxyV2 } from '../../lib/net/proxyProtocol.ts';
import { claimsAuthserv, DataPolicy, type DataPolicyOptions } from '../../lib/smtp/dataStream.ts';
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
