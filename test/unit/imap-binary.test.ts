/**
 * BINARY (RFC 3516) over a real socket with real storage: FETCH BINARY[part]<partial>, BINARY.PEEK and
 * BINARY.SIZE decode base64 and quoted-printable (small parts in memory, large ones streamed twice: count,
 * then send), literal8 only when the data has NUL (§4.3), NO [UNKNOWN-CTE] for an encoding it cannot
 * decode, and APPEND of a literal8 (§4.4). Also the streaming decoders on their own, split every way.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { transferDecoder } from '../../lib/mime/transferDecode.ts';
import { deliverTo } from '../protocol/imap-support.ts';
import { type ImapTestServer, imapTestServer } from './imap-test-server.ts';

let t: ImapTestServer;
before(async () => {
  t = await imapTestServer();
});

const ALL_OCTETS = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const BIG = randomBytes(200_000);
const wrapped = (b: Buffer) => b.toString('base64').replace(/(.{76})/g, '$1\r\n');

const MESSAGE = Buffer.from(
  'From: bob@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n' +
    '--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' +
    'caf=C3=A9 =\r\nsoft  \r\nx=3D1\r\n' +
    '--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
    `${wrapped(ALL_OCTETS)}\r\n` +
    '--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n`\r\nend\r\n' +
    '--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: BASE64\r\n\r\n' +
    `${wrapped(BIG)}\r\n` +
    '--b\r\nContent-Type: text/plain\r\n\r\nplain 8bit \xe9\r\n' +
    '--b--\r\n',
  'latin1',
);
const QP_DECODED = Buffer.from('café soft\r\nx=1', 'utf8');

let boxes = 0;
async function selected() {
  const name = `Bin${++boxes}`;
  await t.storage.mail.createMailbox(t.account.accountId, name);
  await deliverTo(t.storage, t.account.accountId, MESSAGE, { mailbox: name });
  const c = await t.login();
  assert.match((await c.cmd(`SELECT ${name}`)).status, /OK/);
  return c;
}

describe('FETCH BINARY (RFC 3516 §4.2, §4.3)', () => {
  it('decodes quoted-printable into a plain literal and base64 with NUL into a literal8; BINARY.SIZE matches', async () => {
    const c = await selected();
    const r = await c.cmd('FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1] BINARY.SIZE[2])');
    assert.deepEqual(r.untagged, [
      `* 1 FETCH (BINARY[1] {${QP_DECODED.length}}\r\n${QP_DECODED.toString('latin1')} BINARY.SIZE[1] ${QP_DECODED.length} BINARY.SIZE[2] 256)`,
    ]);
    assert.match(r.status, /^a\d+ OK FETCH completed/);
    const b = await c.cmd('FETCH 1 (BINARY.PEEK[2])');
    assert.equal(b.untagged[0], `* 1 FETCH (BINARY[2] ~{256}\r\n${ALL_OCTETS.toString('latin1')})`);
    // partial: offsets into the DECODED data (§4.2); a slice without NUL is a plain literal
    const p = await c.cmd('FETCH 1 (BINARY.PEEK[2]<250.10> BINARY.PEEK[2]<0.2> BINARY.PEEK[2]<300.5>)');
    assert.equal(
      p.untagged[0],
      `* 1 FETCH (BINARY[2]<250> {6}\r\n${ALL_OCTETS.subarray(250).toString('latin1')} ` +
        'BINARY[2]<0> ~{2}\r\n\x00\x01 BINARY[2]<300> {0}\r\n)',
    );
    c.destroy();
  });

  it('streams a large base64 part (count, then send), whole and partial, byte-exact', async () => {
    const c = await selected();
    const size = await c.cmd('FETCH 1 (BINARY.SIZE[4])');
    assert.deepEqual(size.untagged, [`* 1 FETCH (BINARY.SIZE[4] ${BIG.length})`]);
    const whole = await c.cmd('FETCH 1 (BINARY.PEEK[4])');
    const head = `* 1 FETCH (BINARY[4] ~{${BIG.length}}\r\n`;
    assert.ok(whole.untagged[0].startsWith(head), whole.untagged[0].slice(0, 60));
    assert.ok(Buffer.from(whole.untagged[0].slice(head.length, -1), 'latin1').equals(BIG));
    const part = await c.cmd('FETCH 1 (BINARY.PEEK[4]<100001.50000>)');
    const expected = BIG.subarray(100_001, 150_001);
    const literal = expected.includes(0) ? '~' : '';
    assert.equal(part.untagged[0], `* 1 FETCH (BINARY[4]<100001> ${literal}{50000}\r\n${expected.toString('latin1')})`);
    c.destroy();
  });

  it('identity parts as they are, the whole message for BINARY[], NIL for a part that is not there', async () => {
    const c = await selected();
    const r = await c.cmd('FETCH 1 (BINARY.PEEK[5] BINARY.SIZE[5] BINARY.PEEK[9] BINARY.SIZE[])');
    assert.deepEqual(r.untagged, [
      `* 1 FETCH (BINARY[5] {12}\r\nplain 8bit \xe9 BINARY.SIZE[5] 12 BINARY[9] NIL BINARY.SIZE[] ${MESSAGE.length})`,
    ]);
    const all = await c.cmd('FETCH 1 (BINARY.PEEK[])');
    assert.equal(all.untagged[0], `* 1 FETCH (BINARY[] {${MESSAGE.length}}\r\n${MESSAGE.toString('latin1')})`);
    c.destroy();
  });

  it('an encoding it cannot decode is NO [UNKNOWN-CTE] (§4.3), for BINARY and BINARY.SIZE', async () => {
    const c = await selected();
    assert.match((await c.cmd('FETCH 1 (BINARY.PEEK[3])')).status, /^a\d+ NO \[UNKNOWN-CTE\] /);
    assert.match((await c.cmd('FETCH 1 (BINARY.SIZE[3])')).status, /^a\d+ NO \[UNKNOWN-CTE\] /);
    // a multipart is served as it is only when it is not encoded: this one is 7bit, so BINARY[] works
    assert.match((await c.cmd('FETCH 1 (BINARY.SIZE[])')).status, /^a\d+ OK /);
    c.destroy();
  });

  it('BINARY without PEEK sets \\Seen and tells the new FLAGS; BINARY.PEEK does not (§4.2)', async () => {
    const c = await selected();
    assert.deepEqual((await c.cmd('FETCH 1 (BINARY.PEEK[1]<0.3>)')).untagged, ['* 1 FETCH (BINARY[1]<0> {3}\r\ncaf)']);
    assert.deepEqual((await c.cmd('FETCH 1 (FLAGS)')).untagged, ['* 1 FETCH (FLAGS ())']);
    assert.deepEqual((await c.cmd('FETCH 1 (BINARY[1]<0.3>)')).untagged, [
      '* 1 FETCH (BINARY[1]<0> {3}\r\ncaf FLAGS (\\Seen))',
    ]);
    c.destroy();
  });
});

describe('APPEND literal8 (RFC 3516 §4.4)', () => {
  it('takes binary content with NUL, synchronising and not, and gives it back through BINARY', async () => {
    const c = await t.login();
    const payload = Buffer.from([0, 1, 2, 0, 255, 13, 10, 0]);
    const message = Buffer.concat([
      Buffer.from(
        'Subject: bin\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n',
      ),
      payload,
    ]);
    c.send(`b1 APPEND Drafts ~{${message.length}}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.send(Buffer.concat([message, Buffer.from('\r\n')]));
    const ok = await c.line();
    const uid = /APPENDUID \d+ (\d+)/.exec(ok)?.[1];
    assert.ok(uid, ok);
    c.send(Buffer.concat([Buffer.from(`b2 APPEND Drafts ~{${message.length}+}\r\n`), message, Buffer.from('\r\n')]));
    assert.match(await c.line(), /^b2 OK \[APPENDUID \d+ \d+\]/);
    await c.cmd('SELECT Drafts');
    const r = await c.cmd(`UID FETCH ${uid} (BINARY.PEEK[1] BINARY.SIZE[1])`);
    assert.deepEqual(r.untagged, [
      `* 1 FETCH (UID ${uid} BINARY[1] ~{8}\r\n${payload.toString('latin1')} BINARY.SIZE[1] 8)`,
    ]);
    c.destroy();
  });
});

describe('transfer decoders (RFC 2045 §6.7, §6.8)', () => {
  async function decode(encoding: string, input: Buffer, split: number): Promise<Buffer> {
    const d = transferDecoder(encoding)!;
    const out: Buffer[] = [];
    d.on('data', (chunk: Buffer) => out.push(chunk));
    const ended = new Promise((r) => d.on('end', r));
    for (let i = 0; i < input.length; i += split) d.write(input.subarray(i, i + split));
    d.end();
    await ended;
    return Buffer.concat(out);
  }

  it('give the same octets however the input is split', async () => {
    const qp = Buffer.from('caf=C3=A9 =\r\nsoft  \r\nx=3D1 = lone=\n=4\ntrail \t');
    for (const split of [1, 2, 3, 5, 64, 100_000]) {
      assert.ok((await decode('BASE64', Buffer.from(wrapped(ALL_OCTETS)), split)).equals(ALL_OCTETS), `split ${split}`);
      assert.equal((await decode('QUOTED-PRINTABLE', qp, split)).toString('utf8'), 'café soft\r\nx=1 = lone=4\ntrail');
    }
    // base64 stops at the pad; stray characters are ignored
    assert.equal((await decode('BASE64', Buffer.from('aGk=\r\nIGlnbm9yZWQ='), 3)).toString(), 'hi');
    assert.equal((await decode('BASE64', Buffer.from('a*G!k'), 1)).toString(), 'hi');
  });
});
