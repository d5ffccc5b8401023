/** CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload: what lib-storage's Upload sends. */
import { errors } from './errors.ts';
import { header } from './http.ts';
import { readSmallPayload, receiveBody } from './payload.ts';
import { type Ctx, sendEmpty, sendXml } from './respond.ts';
import type { Services } from './routes.ts';
import { parseCompleteMultipart, xmlDocument } from './xml.ts';

const MAX_XML_BODY = 1024 * 1024;

const uploadOf = (ctx: Ctx, { uploads }: Services) =>
  uploads.get(ctx.target.query.get('uploadId') ?? '', ctx.target.bucket, ctx.target.key);

export async function createMultipartUpload(ctx: Ctx, { uploads }: Services): Promise<void> {
  const { bucket, key } = ctx.target;
  await readSmallPayload(ctx, 0);
  const uploadId = await uploads.create(bucket, key, header(ctx.req, 'content-type') || 'binary/octet-stream');
  sendXml(ctx, 200, xmlDocument('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: uploadId }));
}

export async function uploadPart(ctx: Ctx, services: Services): Promise<void> {
  const raw = ctx.target.query.get('partNumber') ?? '';
  const partNumber = /^\d{1,5}$/.test(raw) ? Number(raw) : 0;
  if (partNumber < 1 || partNumber > 10000) throw errors.invalidArgument('Part number must be between 1 and 10000');
  const upload = uploadOf(ctx, services);
  const body = await receiveBody(ctx, upload.dir, 0);
  await services.uploads.commitPart(upload, partNumber, body.tmpPath, { size: body.size, md5: body.md5 });
  sendEmpty(ctx, 200, { ETag: `"${body.md5}"` });
}

export async function completeMultipartUpload(ctx: Ctx, services: Services): Promise<void> {
  const upload = uploadOf(ctx, services);
  const refs = parseCompleteMultipart((await readSmallPayload(ctx, MAX_XML_BODY)).toString('utf8'));
  if (!refs) throw errors.malformedXML();
  const meta = await services.uploads.complete(upload, refs);
  const { bucket, key } = ctx.target;
  sendXml(ctx, 200, xmlDocument('CompleteMultipartUploadResult', { Bucket: bucket, Key: key, ETag: meta.etag }));
}

export async function abortMultipartUpload(ctx: Ctx, services: Services): Promise<void> {
  await services.uploads.abort(uploadOf(ctx, services));
  sendEmpty(ctx, 204);
}
