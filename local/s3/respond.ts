/** One request as the handlers see it, and the ways to answer it. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, S3Error } from './errors.ts';
import type { Target } from './http.ts';
import { xmlDocument } from './xml.ts';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  target: Target;
  /** The S3 operation, for logs and fault injection. */
  op: string;
  requestId: string;
  /** x-amz-content-sha256 of a request whose signature checked out. */
  payloadHash: string;
}

export type Log = (entry: Record<string, unknown>) => void;

let requestCounter = 0;

export function newRequestId(): string {
  requestCounter += 1;
  return `PSTN${requestCounter.toString(16).toUpperCase().padStart(12, '0')}`;
}

export function baseHeaders(ctx: Ctx): Record<string, string> {
  return { 'x-amz-request-id': ctx.requestId };
}

export function sendXml(ctx: Ctx, status: number, xml: string, extra: Record<string, string> = {}): void {
  const body = Buffer.from(xml, 'utf8');
  const headers = { ...baseHeaders(ctx), ...extra, 'Content-Type': 'application/xml' };
  ctx.res.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
}

export function sendEmpty(ctx: Ctx, status: number, extra: Record<string, string> = {}): void {
  ctx.res.writeHead(status, { ...baseHeaders(ctx), ...extra, 'Content-Length': '0' });
  ctx.res.end();
}

/** S3's error document; an unread request body is discarded so the connection stays usable. */
export function sendError(ctx: Ctx, err: unknown, log?: Log): void {
  const { req, res } = ctx;
  if (!(err instanceof S3Error)) log?.({ level: 'error', msg: 's3 internal error', op: ctx.op, err: String(err) });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (res.destroyed || res.socket?.destroyed) return;
  req.unpipe();
  req.resume();
  const e = err instanceof S3Error ? err : errors.internal();
  const fields = { Code: e.code, Message: e.message, Resource: ctx.target.rawPath, RequestId: ctx.requestId };
  sendXml(ctx, e.status, xmlDocument('Error', fields, false), e.headers);
}
