/**
 * A stand-in for the part of Amazon SES API v2 the SES transport uses: `POST /v2/email/outbound-emails`
 * (SendEmail) and `PUT /v2/email/suppression/addresses` (PutSuppressedDestination) in SES's REST-JSON protocol, answering a MessageId and recording each request; errors are
 * scripted per call of either in-process (`failNext`), as SES sends them: the status, `x-amzn-ErrorType` and a JSON
 * body with `message`. Requests must be SigV4-signed for the `ses` service.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SendEmailRecord {
  readonly body: {
    FromEmailAddress?: string;
    FeedbackForwardingEmailAddress?: string;
    ConfigurationSetName?: string;
    Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
    Content?: { Raw?: { Data?: string } };
  };
  /** Content.Raw.Data decoded. */
  readonly raw: Buffer;
  readonly authorization: string;
}

export interface ScriptedError {
  readonly status: number;
  readonly type: string;
  readonly message: string;
}

export interface SesStandIn {
  readonly endpoint: string;
  readonly requests: SendEmailRecord[];
  /** The account-level suppression list (PutSuppressedDestination), address → reason. */
  readonly suppressed: Map<string, string>;
  /** The next calls answer these errors, in order. */
  failNext(...errors: ScriptedError[]): void;
  close(): Promise<void>;
}

/** SES refuses bodies over its limit; this bound only keeps a broken test from eating memory. */
const MAX_BODY = 64 * 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startSesStandIn(): Promise<SesStandIn> {
  const requests: SendEmailRecord[] = [];
  const suppressed = new Map<string, string>();
  const scripted: ScriptedError[] = [];
  let next = 0;
  const server = createServer(async (req, res) => {
    const reply = (status: number, body: object, type?: string) => {
      res.writeHead(status, { 'content-type': 'application/json', ...(type ? { 'x-amzn-errortype': type } : {}) });
      res.end(JSON.stringify(body));
    };
    const body = await readBody(req);
    const authorization = req.headers.authorization ?? '';
    if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/ses\/aws4_request,/.test(authorization)) {
      return reply(403, { message: 'Missing or malformed SigV4 signature' }, 'UnrecognizedClientException');
    }
    if (req.method === 'PUT' && req.url === '/v2/email/suppression/addresses' && body) {
      const failure = scripted.shift();
      if (failure) return reply(failure.status, { message: failure.message }, failure.type);
      const item = JSON.parse(body.toString('utf8')) as { EmailAddress?: string; Reason?: string };
      if (!item.EmailAddress || !['BOUNCE', 'COMPLAINT'].includes(item.Reason ?? '')) {
        return reply(400, { message: 'EmailAddress and Reason are required' }, 'BadRequestException');
      }
      suppressed.set(item.EmailAddress, item.Reason!);
      return reply(200, {});
    }
    if (req.method !== 'POST' || req.url !== '/v2/email/outbound-emails') {
      return reply(404, { message: `not implemented: ${req.method} ${req.url}` }, 'NotFoundException');
    }
    if (!body) return reply(413, { message: 'too large' }, 'BadRequestException');
    const error = scripted.shift();
    if (error) return reply(error.status, { message: error.message }, error.type);
    const parsed = JSON.parse(body.toString('utf8')) as SendEmailRecord['body'];
    requests.push({ body: parsed, raw: Buffer.from(parsed.Content?.Raw?.Data ?? '', 'base64'), authorization });
    reply(200, { MessageId: `0100stand-in-${String(++next).padStart(6, '0')}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    suppressed,
    failNext: (...errors) => scripted.push(...errors),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
