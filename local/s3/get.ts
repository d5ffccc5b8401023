/** GetObject and HeadObject, with the single byte range (RFC 9110 §14.1.2) Postern's ranged reads use. */
import { pipeline } from 'node:stream/promises';
import { errors } from './errors.ts';
import { header, parseRange } from './http.ts';
import { baseHeaders, type Ctx } from './respond.ts';
import type { Services } from './routes.ts';
import { HEADER_SIZE } from './store.ts';

/** Up to this size, a read is one buffer rather than a stream. */
const SMALL_READ = 256 * 1024;

export async function getObject(ctx: Ctx, { store }: Services): Promise<void> {
  const { meta, fh } = await store.openObject(ctx.target.bucket, ctx.target.key);
  let streamOwnsHandle = false;
  try {
    const range = parseRange(header(ctx.req, 'range'), meta.size);
    if (range === 'unsatisfiable') throw errors.invalidRange(meta.size);
    const { start, end } = range ?? { start: 0, end: meta.size - 1 };
    const length = end - start + 1;
    ctx.res.writeHead(range ? 206 : 200, {
      ...baseHeaders(ctx),
      'Content-Type': meta.contentType,
      'Content-Length': String(length),
      ETag: meta.etag,
      'Last-Modified': new Date(meta.lastModified).toUTCString(),
      'Accept-Ranges': 'bytes',
      ...(range && { 'Content-Range': `bytes ${start}-${end}/${meta.size}` }),
    });
    if (ctx.method === 'HEAD' || length === 0) {
      ctx.res.end();
    } else if (length <= SMALL_READ) {
      const { buffer, bytesRead } = await fh.read(Buffer.allocUnsafe(length), 0, length, HEADER_SIZE + start);
      if (bytesRead !== length) throw new Error(`object file too short: ${bytesRead} of ${length} bytes`);
      ctx.res.end(buffer);
    } else {
      const stream = fh.createReadStream({
        start: HEADER_SIZE + start,
        end: HEADER_SIZE + end,
        highWaterMark: SMALL_READ,
      });
      streamOwnsHandle = true; // it closes the handle
      await pipeline(stream, ctx.res).catch(() => undefined); // the client went away mid-download
    }
  } finally {
    if (!streamOwnsHandle) await fh.close();
  }
}
