import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsEndpoints } from '../../core/config.ts';

/**
 * For endpoints without credentials of their own: DynamoDB Local accepts any, and tests and benchmarks start
 * the S3 stand-in with these. Real AWS must use the default chain, so these apply only with an endpoint.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

function usesLocalCredentials(endpoint: string | undefined): boolean {
  return !!endpoint && !process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE;
}

export function makeS3Client(endpoints: AwsEndpoints, maxAttempts?: number): S3Client {
  const client = new S3Client({
    region: endpoints.region ?? 'us-east-1',
    endpoint: endpoints.s3,
    forcePathStyle: !!endpoints.s3,
    credentials: endpoints.s3Credentials ?? (usesLocalCredentials(endpoints.s3) ? LOCAL_CREDENTIALS : undefined),
    // Streamed uploads with flexible checksums use aws-chunked trailers; only send checksums S3 requires.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts,
    // No requestHandler: the SDK's default NodeHttpHandler already keeps connections alive (keepAlive: true,
    // maxSockets: 50), so an explicit agent changes nothing.
  });
  // No logger is configured, yet the logger middleware still builds a redacted copy of every request and
  // response to hand to the no-op logger: ~0.04 ms of CPU per GetObject (a RETR), for nothing.
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

export function makeDynamoClient(endpoints: AwsEndpoints, maxAttempts?: number): DynamoDBClient {
  const client = new DynamoDBClient({
    region: endpoints.region ?? 'us-east-1',
    endpoint: endpoints.dynamodb,
    credentials: usesLocalCredentials(endpoints.dynamodb) ? LOCAL_CREDENTIALS : undefined,
    maxAttempts,
  });
  // As for S3: a redacted copy of every request and response for a no-op logger (an IMAP command makes several).
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}

/** For the DKIM keys (lib/storage/aws/dkimKeys.ts); with an endpoint and no identity, the local credentials. */
export function makeSecretsManagerClient(opts: { endpoint?: string; region?: string }): SecretsManagerClient {
  return new SecretsManagerClient({
    region: opts.region ?? 'us-east-1',
    endpoint: opts.endpoint,
    credentials: usesLocalCredentials(opts.endpoint) ? LOCAL_CREDENTIALS : undefined,
  });
}

/** For the admin CLI's DKIM records (lib/storage/aws/route53Txt.ts); as above with an endpoint. */
export function makeRoute53Client(opts: { endpoint?: string; region?: string }): Route53Client {
  return new Route53Client({
    region: opts.region ?? 'us-east-1',
    endpoint: opts.endpoint,
    credentials: usesLocalCredentials(opts.endpoint) ? LOCAL_CREDENTIALS : undefined,
  });
}
