/** PutObject. */
import { header } from './http.ts';
import { receiveBody } from './payload.ts';
import { type Ctx, sendEmpty } from './respond.ts';
import type { Services } from './routes.ts';
import { HEADER_SIZE } from './store.ts';

export async function putObject(ctx: Ctx, { store }: Services): Promise<void> {
  const { bucket, key } = ctx.target;
  const body = await receiveBody(ctx, store.objectDir(bucket, key), HEADER_SIZE);
  const meta = await store.commitObject(bucket, key, body.tmpPath, {
    size: body.size,
    etag: `"${body.md5}"`,
    contentType: header(ctx.req, 'content-type') || 'binary/octet-stream',
  });
  sendEmpty(ctx, 200, { ETag: meta.etag });
}
