/**
 * The shared line reader (POP3 now, IMAP next): CRLF framing across chunks, the length cap that never buffers
 * an overlong line, backpressure, and the TLS upgrade that drops pipelined plaintext.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { type LineEvent, LineReader } from '../../lib/net/lineReader.ts';

const text = (ev: LineEvent | undefined) => (ev?.kind === 'line' ? ev.line.toString('latin1') : JSON.stringify(ev));

describe('LineReader', () => {
  it('splits CRLF (and bare LF) lines across arbitrary chunks', async () => {
    const input = 'USER a\r\nPASS b c\r\nSTAT\nNOOP\r\n\r\n';
    for (let cut = 0; cut <= input.length; cut++) {
      const s = new PassThrough();
      const r = new LineReader(s, { maxLineLength: 100 });
      s.write(input.slice(0, cut));
      s.write(input.slice(cut));
      s.end();
      const got: string[] = [];
      for (let ev = await r.next(); ev; ev = await r.next()) got.push(text(ev));
      assert.deepEqual(got, ['USER a', 'PASS b c', 'STAT', 'NOOP', ''], `cut at ${cut}`);
    }
  });

  it('keeps a CR that is not followed by LF inside the line', async () => {
    const s = new PassThrough();
    const r = new LineReader(s, { maxLineLength: 100 });
    s.end('A\rB\r\n');
    assert.equal(text(await r.next()), 'A\rB');
  });

  it('reports overlong lines without keeping them, then continues', async () => {
    const s = new PassThrough();
    const r = new LineReader(s, { maxLineLength: 10 });
    s.write('0123456789\r\n'); // exactly the limit
    s.write('01234567890\r\n'); // one over
    for (let i = 0; i < 100; i++) s.write('x'.repeat(10_000)); // 1 MB without a line end
    s.write('\r\nNEXT\r\n');
    s.end();
    assert.equal(text(await r.next()), '0123456789');
    assert.deepEqual(await r.next(), { kind: 'overlong', length: 11 });
    assert.deepEqual(await r.next(), { kind: 'overlong', length: 1_000_000 });
    assert.equal(text(await r.next()), 'NEXT');
    assert.equal(await r.next(), undefined);
  });

  it('pauses the socket when too many lines wait (backpressure)', async () => {
    const s = new PassThrough({ highWaterMark: 1024 });
    const r = new LineReader(s, { maxLineLength: 100, maxQueuedBytes: 1000 });
    void r.next(); // a waiting reader: the socket flows
    let written = 0;
    const line = `${'y'.repeat(98)}\r\n`;
    while (s.write(line) && written < 10_000) written++;
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(s.isPaused(), 'the reader stopped reading');
    assert.ok(written < 100, `the writer saw backpressure after ${written} lines`);
    s.destroy();
  });

  it('drops what was read but not handled when detached for TLS, and reads the new socket', async () => {
    const plain = new PassThrough();
    const r = new LineReader(plain, { maxLineLength: 100 });
    plain.write('STLS\r\nUSER injected\r\nPASS inj');
    assert.equal(text(await r.next()), 'STLS');
    await new Promise((resolve) => setImmediate(resolve));
    const dropped = r.detach();
    assert.ok(dropped >= 'USER injected'.length, `dropped ${dropped}`);
    const secure = new PassThrough();
    r.attach(secure);
    plain.write('ected\r\nQUIT\r\n'); // never seen: the plain socket is no longer read
    secure.write('CAPA\r\n');
    assert.equal(text(await r.next()), 'CAPA');
    secure.end();
    assert.equal(await r.next(), undefined);
  });

  it('resolves undefined when the socket closes, after the queued lines', async () => {
    const s = new PassThrough();
    const r = new LineReader(s, { maxLineLength: 100 });
    s.end('A\r\nB\r\npartial');
    assert.equal(text(await r.next()), 'A');
    assert.equal(text(await r.next()), 'B');
    assert.equal(await r.next(), undefined);
    assert.equal(await r.next(), undefined);
  });
});
