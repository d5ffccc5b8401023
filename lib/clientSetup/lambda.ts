/**
 * API Gateway HTTP API (payload format 2.0) events to and from the pure front (http.ts). The custom domain the
 * client used is requestContext.domainName; a body may come base64-encoded.
 */
import { type ClientSetupSettings, clientSetupResponse } from './http.ts';

export interface HttpApiEvent {
  readonly rawPath: string;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly requestContext: { readonly domainName: string; readonly http: { readonly method: string } };
}

export interface HttpApiResult {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Request bodies past this are not autodiscover requests (those are a few hundred octets). */
const MAX_BODY = 16 * 1024;

export function handleHttpApiEvent(settings: ClientSetupSettings, event: HttpApiEvent): HttpApiResult {
  const raw = event.body ?? '';
  const body = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (body.length > MAX_BODY) {
    return { statusCode: 413, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'too large\n' };
  }
  const method = event.requestContext.http.method;
  const res = clientSetupResponse(settings, {
    method,
    host: event.requestContext.domainName,
    path: event.rawPath,
    body,
  });
  return { statusCode: res.status, headers: res.headers, body: method === 'HEAD' ? '' : res.body };
}
