/**
 * The aws-chunked content encoding the SDK uses for streamed uploads with an unsigned checksum trailer:
 * `hex-size\r\n data \r\n` repeated, a zero-size chunk, then trailer lines (`x-amz-checksum-crc32:..`) and
 * an empty line.
 */
import { errors } from './errors.ts';

const MAX_LINE = 64 * 1024;
const MAX_TRAILERS = 16;

/** Reads lines and byte runs from a stream of buffers. */
class Reader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async more(): Promise<boolean> {
    const next = await this.source.next();
    if (next.done) return false;
    this.buf = this.buf.length === 0 ? next.value : Buffer.concat([this.buf, next.value]);
    return true;
  }

  /** The next line without its CRLF; undefined at the end of the stream. */
  async line(): Promise<string | undefined> {
    let nl = this.buf.indexOf(0x0a);
    while (nl < 0) {
      if (this.buf.length > MAX_LINE) throw errors.incompleteBody('aws-chunked line too long');
      if (!(await this.more())) return this.buf.length > 0 ? this.rest() : undefined;
      nl = this.buf.indexOf(0x0a);
    }
    const line = this.buf.toString('latin1', 0, nl).replace(/\r$/, '');
    this.buf = this.buf.subarray(nl + 1);
    return line;
  }

  private rest(): string {
    const line = this.buf.toString('latin1').replace(/\r$/, '');
    this.buf = Buffer.alloc(0);
    return line;
  }

  async *bytes(count: number): AsyncGenerator<Buffer> {
    let left = count;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.more())) throw errors.incompleteBody('aws-chunked body cut short');
      const piece = this.buf.subarray(0, left);
      this.buf = this.buf.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }
}

/** The decoded bytes of an aws-chunked body; its trailers go into `trailers` (lower-case names). */
export async function* decodeAwsChunked(
  source: AsyncIterable<Buffer>,
  trailers: Map<string, string>,
): AsyncGenerator<Buffer> {
  const reader = new Reader(source[Symbol.asyncIterator]());
  for (;;) {
    const sizeLine = await reader.line();
    const hex = /^([0-9a-fA-F]{1,13})(?:;.*)?$/.exec(sizeLine ?? '')?.[1];
    if (hex === undefined) throw errors.incompleteBody('Malformed aws-chunked chunk size');
    const size = Number.parseInt(hex, 16);
    if (size === 0) break;
    yield* reader.bytes(size);
    if ((await reader.line()) !== '') throw errors.incompleteBody('aws-chunked chunk data not followed by CRLF');
  }
  for (let line = await reader.line(); line !== undefined && line !== ''; line = await reader.line()) {
    const colon = line.indexOf(':');
    if (colon <= 0 || trailers.size >= MAX_TRAILERS) throw errors.incompleteBody('Malformed aws-chunked trailer');
    trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if ((await reader.line()) !== undefined) throw errors.incompleteBody('Data after the end of the aws-chunked body');
}
