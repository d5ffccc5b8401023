/** HTTP-level helpers for the S3 stand-in: URL/query parsing, bodies, ranges, dates. */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { errors, S3Error } from './errors.ts';

/** First value of a request header. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  if (Array.isArray(v)) return v[0];
  return v;
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw errors.invalidURI();
  }
}

export interface ParsedUrl {
  rawPath: string;
  bucket: string;
  /** undefined or '' for bucket-level requests */
  key: string;
  query: Map<string, string>;
}

/**
 * Split a request target into bucket, key and query without any path
 * normalisation ('..' segments are part of the key, never interpreted).
 */
export function parseTarget(url: string): ParsedUrl {
  let target = url;
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*/.exec(target);
  if (abs) target = target.slice(abs[0].length) || '/';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? '' : target.slice(q + 1);
  if (!rawPath.startsWith('/')) throw errors.invalidURI();
  const rest = rawPath.slice(1);
  const slash = rest.indexOf('/');
  const bucket = decodeComponent(slash < 0 ? rest : rest.slice(0, slash));
  const key = slash < 0 ? '' : decodeComponent(rest.slice(slash + 1));
  const query = new Map<string, string>();
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(part.slice(eq + 1));
    if (!query.has(name)) query.set(name, value);
  }
  return { rawPath, bucket, key, query };
}

/**
 * The request body as a stream that can be abandoned without destroying the
 * request (so an error response can still be sent), and that errors if the
 * client disconnects before the body is complete.
 */
export function requestBody(req: IncomingMessage): Readable {
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  const fail = () => {
    if (!req.complete && !body.destroyed) {
      body.destroy(
        new S3Error('RequestAborted', 400, 'The client closed the connection before sending the whole body.'),
      );
    }
  };
  req.on('aborted', fail);
  req.on('close', fail);
  req.on('error', fail);
  if (req.destroyed && !req.readableEnded) {
    // the client went away before we started reading (its 'close' already fired)
    fail();
    return body;
  }
  req.pipe(body);
  return body;
}

/** Read a small body fully; larger than `limit` bytes is an error. */
export async function readSmallBody(req: IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of requestBody(req)) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Wait until the request body has been consumed (discarding it) so that an
 * early response does not break a keep-alive connection. Returns false if the
 * body could not be drained in time (the connection should then be closed).
 */
export async function drainRequest(req: IncomingMessage, timeoutMs = 30_000): Promise<boolean> {
  if (req.complete || req.destroyed || req.readableEnded) return true;
  req.unpipe();
  return new Promise<boolean>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (ok: boolean) => {
      if (timer) clearTimeout(timer);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      resolve(ok);
    };
    const onEnd = () => done(true);
    const onClose = () => done(false);
    timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
    req.resume();
  });
}

export type RangeResult = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * Parse a single byte range (bytes=a-b, bytes=a-, bytes=-n) against `size`.
 * Returns undefined when the header is absent or syntactically invalid (the
 * whole object is then served, as S3 does), 'unsatisfiable' for 416.
 */
export function parseRange(value: string | undefined, size: number): RangeResult {
  if (value === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  let end = b === '' ? size - 1 : Number(b);
  if (b !== '' && end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  end = Math.min(end, size - 1);
  return { start, end };
}

/** Epoch ms truncated to whole seconds (S3 timestamps have second precision). */
export function toSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

export function httpDate(ms: number): string {
  return new Date(toSeconds(ms)).toUTCString();
}

export function isoDate(ms: number): string {
  return new Date(toSeconds(ms)).toISOString();
}

export function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** Characters Node accepts in a header value. */
export function isValidHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}
