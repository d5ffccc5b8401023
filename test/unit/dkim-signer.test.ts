/**
 * The DKIM signer, checked by a verifier that is not mailauth: Debian's python3-dkim, with the TXT records our
 * key code makes. Both signatures (RSA and Ed25519, RFC 8463) must verify, and a changed message must not.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DNSResolver } from 'mailauth';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { createLogger } from '../../lib/core/log.ts';
import type { DkimKeyStore, DkimPrivateKey } from '../../lib/core/outbound.ts';
import { currentKeys, dkimRecordName, dkimRecordText, generateKeySet } from '../../lib/outbound/dkimKeys.ts';
import { DkimMessageSigner } from '../../lib/outbound/dkimSigner.ts';
import { stubResolver } from '../../lib/pipeline/dns.ts';
import { verifyWithDkimpy } from '../support/pythonDkim.ts';

const DOMAIN = 'example.org';
const KEYS = generateKeySet(DOMAIN, [], Date.now());
const RECORDS = Object.fromEntries(KEYS.map((k) => [dkimRecordName(k), dkimRecordText(k)]));

/** An in-memory key store (the port's fake; the real stores have their own contract test). */
function keyStore(keys: readonly DkimPrivateKey[]): DkimKeyStore {
  return {
    signingKeys: async (domain) => currentKeys(keys.filter((k) => k.domain === domain)),
    list: async () => [...keys],
    add: async () => {},
    removeDomain: async () => {},
  };
}

function signer(keys: readonly DkimPrivateKey[] = KEYS) {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ sink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  return { signer: new DkimMessageSigner({ keys: keyStore(keys), logger }), logs };
}

const crlf = (lines: readonly string[]) => Buffer.from(lines.join('\r\n'), 'latin1');

/** Signs `message` (given in chunks of `chunk` octets, to cross header and line boundaries) and returns it signed. */
async function signed(message: Buffer, chunk = 7): Promise<Buffer> {
  const { signer: s } = signer();
  const parts: Buffer[] = [];
  for (let at = 0; at < message.length; at += chunk) parts.push(message.subarray(at, at + chunk));
  const prefix = await s.sign(DOMAIN, async () => Readable.from(parts));
  return Buffer.concat([Buffer.from(prefix, 'latin1'), message]);
}

const HEADERS = [
  'From: Alice Example <alice@example.org>',
  'To: Bob <bob@example.net>',
  'Subject: Quarterly report',
  'Date: Wed, 02 Dec 2026 13:00:00 +0000',
  'Message-ID: <report-1@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
];

const MESSAGES: Readonly<Record<string, Buffer>> = {
  plain: crlf([...HEADERS, '', 'Hello Bob,', '', 'the numbers are attached.', '']),
  'long lines (a 5000-octet body line, a 1500-octet folded header)': crlf([
    ...HEADERS,
    `References: ${Array.from({ length: 60 }, (_, i) => `<ref-${i}-${'x'.repeat(12)}@example.org>`).join('\r\n ')}`,
    '',
    'a'.repeat(5000),
    `${'word '.repeat(400)}`,
    '',
  ]),
  '8-bit body (UTF-8 and Latin-1 octets)': Buffer.concat([
    crlf([
      ...HEADERS.slice(0, -1),
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      '',
    ]),
    Buffer.from('Grüße aus Köln, 東京 ✓\r\n', 'utf8'),
    Buffer.from([0xe9, 0xe8, 0x0d, 0x0a]),
  ]),
  'folded headers and odd whitespace (relaxed, RFC 6376 §3.4.2)': crlf([
    'From: Alice Example\r\n  <alice@example.org>',
    'To:   bob@example.net',
    'Subject: a\tsubject\r\n\tfolded   with\r\n    tabs and spaces   ',
    'Date: Wed, 02 Dec 2026 13:00:00 +0000',
    '',
    'body  with   spaces \t ',
    '',
    '',
    '',
  ]),
  'empty body': crlf([...HEADERS, '', '']),
  'no body at all (header section only)': crlf([...HEADERS, '']),
};

describe('DKIM signer, verified by python3-dkim', () => {
  for (const [name, message] of Object.entries(MESSAGES)) {
    it(`${name}: both signatures verify`, async () => {
      const result = await verifyWithDkimpy(await signed(message), RECORDS);
      assert.deepEqual(result, [true, true]);
    });
  }

  it('signs relaxed/relaxed with RSA first, then Ed25519, each its own selector, From oversigned', async () => {
    const out = (await signed(MESSAGES.plain)).toString('latin1');
    const sigs = out.split(/\r\n(?=DKIM-Signature:)/).filter((f) => f.startsWith('DKIM-Signature:'));
    assert.equal(sigs.length, 2);
    const tags = sigs.map((s) =>
      Object.fromEntries(
        s
          .replace(/\r\n[ \t]+/g, ' ')
          .split(';')
          .map((t) => t.trim().split('=', 2)),
      ),
    );
    assert.deepEqual(
      tags.map((t) => [t['DKIM-Signature: v'], t.a, t.c, t.s, t.d]),
      [
        ['1', 'rsa-sha256', 'relaxed/relaxed', KEYS[0].selector, DOMAIN],
        ['1', 'ed25519-sha256', 'relaxed/relaxed', KEYS[1].selector, DOMAIN],
      ],
    );
    const h = (tags[0].h as string).split(':').map((f) => f.trim().toLowerCase());
    assert.equal(h.filter((f) => f === 'from').length, 2, 'From listed once more than it occurs');
    for (const field of ['to', 'subject', 'date', 'message-id', 'mime-version', 'content-type'])
      assert.ok(h.includes(field));
    assert.match(out, /\r\n\r\nHello Bob,/, 'the message follows unchanged');
  });

  it('a changed body, subject or an added From fails (RFC 6376 §6.1.3)', async () => {
    const good = (await signed(MESSAGES.plain)).toString('latin1');
    const tampered = {
      body: good.replace('the numbers', 'the NUMBERS'),
      subject: good.replace('Subject: Quarterly report', 'Subject: Quarterly rep0rt'),
      'From above the signed one': good.replace('From: Alice', 'From: Mallory <m@evil.example>\r\nFrom: Alice'),
      'From below the signed one': good.replace('To: Bob', 'From: Mallory <m@evil.example>\r\nTo: Bob'),
    };
    for (const [what, text] of Object.entries(tampered)) {
      assert.notEqual(text, good, what);
      assert.deepEqual(await verifyWithDkimpy(Buffer.from(text, 'latin1'), RECORDS), [false, false], what);
    }
    // A field outside the signed set may be added in transit (a Received line): still valid.
    const received = `Received: from relay by mx; Wed, 02 Dec 2026 13:00:01 +0000\r\n${good}`;
    assert.deepEqual(await verifyWithDkimpy(Buffer.from(received, 'latin1'), RECORDS), [true, true]);
  });

  it('oversigning: a From added above the signed one fails only because h= lists From twice (RFC 6376 §8.15)', async () => {
    // dkimpy refuses any message with two From fields, so it cannot show this; mailauth's verifier takes them,
    // and passes the same forgery under a signature from mailauth's own dkimSign, which does not oversign.
    const resolver = stubResolver(
      Object.fromEntries(Object.entries(RECORDS).map(([name, text]) => [name, { TXT: [text] }])),
    ) as DNSResolver;
    const verdicts = async (message: Buffer) =>
      (await dkimVerify(message, { resolver })).results.map((r) => r.status.result);
    const forged = (m: Buffer) => Buffer.concat([Buffer.from('From: Mallory <m@evil.example>\r\n'), m]);
    const ours = await signed(MESSAGES.plain);
    assert.deepEqual(await verdicts(ours), ['pass', 'pass']);
    assert.deepEqual(await verdicts(forged(ours)), ['fail', 'fail']);
    const [rsa] = KEYS;
    const plain = await dkimSign(MESSAGES.plain, {
      signatureData: [{ signingDomain: DOMAIN, selector: rsa.selector, privateKey: rsa.privateKeyPem }],
    } as Parameters<typeof dkimSign>[1]);
    assert.equal(plain.errors.length, 0);
    const theirs = Buffer.concat([Buffer.from(plain.signatures), MESSAGES.plain]);
    assert.deepEqual(await verdicts(forged(theirs)), ['pass'], 'without oversigning the forgery passes');
  });

  it('signs with the only key there is (RSA alone), and returns "" with a log line when there is none', async () => {
    const rsaOnly = signer(KEYS.filter((k) => k.algorithm === 'rsa-sha256'));
    const prefix = await rsaOnly.signer.sign(DOMAIN, async () => Readable.from([MESSAGES.plain]));
    const result = await verifyWithDkimpy(Buffer.concat([Buffer.from(prefix), MESSAGES.plain]), RECORDS);
    assert.deepEqual(result, [true]);

    const none = signer([]);
    let opened = false;
    const empty = await none.signer.sign('unknown.example', async () => {
      opened = true;
      return Readable.from([MESSAGES.plain]);
    });
    assert.equal(empty, '');
    assert.equal(opened, false, 'the message is not even read');
    assert.deepEqual(
      none.logs.map((l) => [l.level, l.domain]),
      [['warn', 'unknown.example']],
    );
  });

  it('a message without From is left unsigned and logged, naming the selector and never the key', async () => {
    const { signer: s, logs } = signer();
    const noFrom = crlf(['To: bob@example.net', 'Subject: x', '', 'body', '']);
    assert.equal(await s.sign(DOMAIN, async () => Readable.from([noFrom])), '');
    assert.deepEqual(
      logs.map((l) => [l.level, l.selector]),
      KEYS.map((k) => ['error', k.selector]),
    );
    const text = JSON.stringify(logs);
    for (const k of KEYS) assert.ok(!text.includes(k.privateKeyPem.split('\n')[1]), 'no private key in the logs');
  });

  it('a header section over maxHeaderBytes is not signed (mailauth would hold ~10x it), logged; one under is', async () => {
    const logs: Record<string, unknown>[] = [];
    const logger = createLogger({ sink: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
    const s = new DkimMessageSigner({ keys: keyStore(KEYS), logger, maxHeaderBytes: 1000 });
    const withHeader = (octets: number) => {
      const filler = `X-Filler: ${'f'.repeat(octets - MESSAGES.plain.indexOf('\r\n\r\n') - 16)}`;
      return Buffer.concat([Buffer.from(`${filler}\r\n`), MESSAGES.plain]);
    };
    const chunked = (m: Buffer) =>
      Readable.from(Array.from({ length: Math.ceil(m.length / 5) }, (_, i) => m.subarray(i * 5, i * 5 + 5)));
    const small = withHeader(990);
    const prefix = await s.sign(DOMAIN, async () => chunked(small));
    assert.deepEqual(await verifyWithDkimpy(Buffer.concat([Buffer.from(prefix), small]), RECORDS), [true, true]);
    assert.equal(await s.sign(DOMAIN, async () => chunked(withHeader(1010))), '');
    assert.deepEqual(
      logs.map((l) => [l.level, l.msg]),
      [['error', 'dkim: header section too large to sign, sending unsigned']],
    );
  });

  it('a message stream that fails makes sign fail (the caller retries), nothing half-signed is returned', async () => {
    const { signer: s } = signer();
    async function* broken() {
      yield MESSAGES.plain.subarray(0, 40);
      throw new Error('blob read failed');
    }
    await assert.rejects(
      s.sign(DOMAIN, async () => Readable.from(broken())),
      /blob read failed/,
    );
  });

  it("reuses a domain's keys for keyCacheMs, then asks the store again; a failed read is not kept", async () => {
    let reads = 0;
    let failNext = false;
    let clock = 1_000_000;
    const store: DkimKeyStore = {
      ...keyStore(KEYS),
      signingKeys: async (domain) => {
        reads++;
        if (failNext) {
          failNext = false;
          throw new Error('store unavailable');
        }
        return keyStore(KEYS).signingKeys(domain);
      },
    };
    const s = new DkimMessageSigner({
      keys: store,
      logger: createLogger({ sink: () => {} }),
      keyCacheMs: 60_000,
      now: () => clock,
    });
    const sign = () => s.sign(DOMAIN, async () => Readable.from([MESSAGES.plain]));
    await sign();
    await sign();
    assert.equal(reads, 1);
    clock += 60_001;
    failNext = true;
    await assert.rejects(sign(), /store unavailable/, 'a store that fails is an error, not unsigned mail');
    assert.match(await sign(), /^DKIM-Signature: /);
    assert.equal(reads, 3);
  });

  it('streams: a 64 MiB message is signed with the memory of a few chunks, not of the message', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const used = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const line = Buffer.from(`${'0123456789abcdef'.repeat(4)}\r\n`);
    const chunk = Buffer.concat(Array.from({ length: 1024 }, () => line)); // 66 KiB of 78-octet lines
    const chunks = Math.ceil((64 * 2 ** 20) / chunk.length);
    gc();
    const baseline = used();
    let peak = 0;
    async function* message() {
      yield crlf([...HEADERS, '', '']);
      for (let i = 0; i < chunks; i++) {
        if (i % 64 === 0) {
          gc();
          peak = Math.max(peak, used() - baseline);
        }
        yield Buffer.from(chunk); // a fresh buffer, as a socket or S3 stream gives
      }
    }
    const { signer: s } = signer();
    const prefix = await s.sign(DOMAIN, async () => Readable.from(message()));
    assert.match(prefix, /^DKIM-Signature: /);
    if (process.env.POSTERN_TEST_VERBOSE)
      console.log(`# DKIM signing of 64 MiB: memory peak +${(peak / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(peak < 16 * 2 ** 20, `memory grew by ${(peak / 2 ** 20).toFixed(1)} MiB while signing 64 MiB`);
  });
});
