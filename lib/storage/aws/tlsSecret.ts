import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { TlsMaterial } from '../../net/types.ts';

/** The gateway's certificate from a Secrets Manager secret holding JSON {"key": PEM, "cert": PEM}. */
export async function loadTlsSecret(secretArn: string): Promise<TlsMaterial> {
  const client = new SecretsManagerClient({});
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    const parsed = JSON.parse(out.SecretString ?? '{}') as Partial<TlsMaterial>;
    if (!parsed.key || !parsed.cert) throw new Error('TLS secret must be JSON with "key" and "cert" PEM strings');
    return { key: parsed.key, cert: parsed.cert };
  } finally {
    client.destroy();
  }
}
