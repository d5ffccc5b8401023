/** HTTP helpers for the S3 stand-in: request targets, bodies, byte ranges. */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { errors } from './errors.ts';

/** First value of a request header. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw errors.invalidURI();
  }
}

export interface Target {
  /** The path as sent, still percent-encoded (the signature covers it). */
  rawPath: string;
  rawQuery: string;
  bucket: string;
  /** '' for bucket-level requests */
  key: string;
  /** First value of each query parameter, decoded. */
  query: Map<string, string>;
}

/** Split a path-style request target (`/bucket/key?query`) without normalising it: '..' is part of a key. */
export function parseTarget(url: string): Target {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  if (!rawPath.startsWith('/')) throw errors.invalidURI();
  const slash = rawPath.indexOf('/', 1);
  const bucket = decodeComponent(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
  const key = slash < 0 ? '' : decodeComponent(rawPath.slice(slash + 1));
  const query = new Map<string, string>();
  for (const [name, value] of queryPairs(rawQuery)) if (!query.has(name)) query.set(name, value);
  return { rawPath, rawQuery, bucket, key, query };
}

/** Decoded name/value pairs of a query string, in order, repeats included. */
export function queryPairs(rawQuery: string): [string, string][] {
  return rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0
        ? [decodeComponent(part), '']
        : [decodeComponent(part.slice(0, eq)), decodeComponent(part.slice(eq + 1))];
    });
}

/**
 * The request body as a stream that can be abandoned without destroying the request (an error response can
 * still be sent), and that fails if the client disconnects before the body is complete.
 */
export function requestBody(req: IncomingMessage): Readable {
  const body = new PassThrough({ highWaterMark: 1024 * 1024 });
  const fail = () => {
    if (!req.complete && !body.destroyed) body.destroy(errors.requestAborted());
  };
  req.on('close', fail);
  req.on('error', fail);
  if (req.destroyed && !req.readableEnded) fail();
  else req.pipe(body);
  return body;
}

export type RangeResult = { start: number; end: number } | 'unsatisfiable' | undefined;

/**
 * A single byte range (bytes=a-b, a-, -n) against `size` (RFC 9110 §14.1.2). Undefined when absent or not
 * one valid range (the whole object is served, as S3 does); 'unsatisfiable' for a 416.
 */
export function parseRange(value: string | undefined, size: number): RangeResult {
  const m = value === undefined ? null : /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  return start >= size ? 'unsatisfiable' : { start, end: Math.min(m[2] === '' ? size : Number(m[2]), size - 1) };
}
