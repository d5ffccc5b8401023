/**
 * AWS Signature Version 4, header form (`Authorization: AWS4-HMAC-SHA256 Credential=.., SignedHeaders=..,
 * Signature=..`), checked against the one key pair the stand-in was started with. Presigned URLs are refused:
 * nothing in Postern makes them.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { errors } from './errors.ts';
import { decodeComponent, header, queryPairs, type Target } from './http.ts';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** aws-chunked body with unsigned chunks and a checksum trailer: what the SDK sends for streams. */
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
/** S3 refuses requests whose x-amz-date is further than this from its clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^,]+), *SignedHeaders=([^,]+), *Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/;

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~ */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Path and query re-encoded canonically (S3 neither normalises nor double-encodes the path). */
function canonicalTarget(target: Target): string {
  const path = target.rawPath
    .split('/')
    .map((segment) => uriEncode(decodeComponent(segment)))
    .join('/');
  const query = queryPairs(target.rawQuery)
    .map(([name, value]) => `${uriEncode(name)}=${uriEncode(value)}`)
    .sort()
    .join('&');
  return `${path}\n${query}`;
}

function canonicalHeaders(req: IncomingMessage, names: string[]): string {
  return names
    .map((name) => {
      const values = req.headersDistinct[name] ?? [];
      return `${name}:${values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}\n`;
    })
    .join('');
}

function requestTime(amzDate: string | undefined): number {
  const m = amzDate === undefined ? null : AMZ_DATE.exec(amzDate);
  if (!m) throw errors.accessDenied('AWS authentication requires a valid x-amz-date header');
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

/**
 * Verifies the request's signature; returns its payload hash (x-amz-content-sha256): a hex SHA-256 the body
 * must match, UNSIGNED-PAYLOAD, or STREAMING-UNSIGNED-PAYLOAD-TRAILER. Throws S3's 403 errors otherwise.
 */
export function verifySignature(req: IncomingMessage, target: Target, credentials: Credentials): string {
  if (target.query.has('X-Amz-Signature')) throw errors.accessDenied('Presigned URLs are not supported');
  const authorization = header(req, 'authorization');
  if (authorization === undefined) throw errors.accessDenied();
  const auth = AUTHORIZATION.exec(authorization.trim());
  if (!auth) throw errors.accessDenied('Unsupported or malformed Authorization header');
  const [, credential, signedHeaders, signature] = auth;
  const [accessKeyId, date, region, service, terminator, ...rest] = credential.split('/');
  if (accessKeyId !== credentials.accessKeyId) throw errors.invalidAccessKeyId();
  if (service !== 's3' || terminator !== 'aws4_request' || rest.length > 0 || !region) {
    throw errors.accessDenied('Malformed credential scope');
  }
  const amzDate = header(req, 'x-amz-date');
  const time = requestTime(amzDate);
  if (amzDate?.slice(0, 8) !== date) throw errors.accessDenied('The credential date does not match x-amz-date');
  if (Math.abs(Date.now() - time) > MAX_SKEW_MS) throw errors.requestTimeTooSkewed();
  const names = signedHeaders.split(';');
  if (!names.includes('host')) throw errors.accessDenied('The host header must be signed');
  const payloadHash = header(req, 'x-amz-content-sha256');
  if (payloadHash === undefined) throw errors.missingContentSha256();

  const canonicalRequest = [
    req.method,
    canonicalTarget(target),
    canonicalHeaders(req, names),
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  let key = hmac(`AWS4${credentials.secretAccessKey}`, date);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) throw errors.signatureDoesNotMatch();

  if (
    payloadHash !== UNSIGNED_PAYLOAD &&
    payloadHash !== STREAMING_UNSIGNED_TRAILER &&
    !/^[0-9a-f]{64}$/.test(payloadHash)
  ) {
    throw errors.notImplemented(`x-amz-content-sha256: ${payloadHash}`);
  }
  return payloadHash;
}
