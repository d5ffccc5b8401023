/**
 * A tiny Secrets Manager for tests: the JSON 1.1 protocol (POST /, `X-Amz-Target: secretsmanager.<Op>`) for
 * the operations the DKIM key store and the TLS secret use, secrets in memory. It is not AWS: it checks no
 * signature and keeps no versions beyond the current one (whose id changes with each write, as AWSCURRENT's
 * does); it lets the real SDK client's requests and error handling be run.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SecretsManagerStandIn {
  readonly endpoint: string;
  /** Secret name to SecretString. */
  readonly secrets: Map<string, string>;
  /** Every request: operation and body, in order. */
  readonly requests: { readonly op: string; readonly body: Record<string, unknown> }[];
  stop(): Promise<void>;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
}

export async function startSecretsManager(): Promise<SecretsManagerStandIn> {
  const secrets = new Map<string, string>();
  const versions = new Map<string, string>();
  const versionOf = (name: string, token?: unknown) => {
    if (token !== undefined || !versions.has(name)) versions.set(name, String(token ?? randomUUID()));
    return versions.get(name) as string;
  };
  const requests: SecretsManagerStandIn['requests'] = [];
  const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-AbCdEf`;
  const existing = (id: unknown) => {
    const name = String(id);
    if (!secrets.has(name))
      throw new ApiError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return name;
  };
  const operations: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    GetSecretValue(body) {
      const name = existing(body.SecretId);
      return {
        ARN: arn(name),
        Name: name,
        SecretString: secrets.get(name),
        VersionId: versionOf(name),
        VersionStages: ['AWSCURRENT'],
      };
    },
    DescribeSecret(body) {
      const name = existing(body.SecretId);
      return { ARN: arn(name), Name: name, VersionIdsToStages: { [versionOf(name)]: ['AWSCURRENT'] } };
    },
    CreateSecret(body) {
      const name = String(body.Name);
      if (secrets.has(name)) throw new ApiError('ResourceExistsException', `The secret ${name} already exists.`);
      secrets.set(name, String(body.SecretString));
      return { ARN: arn(name), Name: name, VersionId: versionOf(name, body.ClientRequestToken ?? randomUUID()) };
    },
    PutSecretValue(body) {
      const name = existing(body.SecretId);
      secrets.set(name, String(body.SecretString));
      return {
        ARN: arn(name),
        Name: name,
        VersionId: versionOf(name, body.ClientRequestToken ?? randomUUID()),
        VersionStages: ['AWSCURRENT'],
      };
    },
    DeleteSecret(body) {
      const name = existing(body.SecretId);
      secrets.delete(name);
      versions.delete(name);
      return { ARN: arn(name), Name: name, DeletionDate: Date.now() / 1000 };
    },
  };
  const server = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.replace(/^secretsmanager\./, '');
    readJson(req)
      .then((body) => {
        requests.push({ op, body });
        const handler = operations[op];
        if (!handler) throw new ApiError('InvalidRequestException', `operation ${target} is not in this stand-in`);
        const result = JSON.stringify(handler(body));
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(result);
      })
      .catch((err: unknown) => {
        const type = err instanceof ApiError ? err.type : 'InternalServiceError';
        const message = err instanceof Error ? err.message : String(err);
        res
          .writeHead(type === 'InternalServiceError' ? 500 : 400, { 'content-type': 'application/x-amz-json-1.1' })
          .end(JSON.stringify({ __type: type, message }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    secrets,
    requests,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
