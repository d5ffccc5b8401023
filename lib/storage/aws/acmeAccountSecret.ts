import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { AccountKeyStore } from '../../certs/ports.ts';

/**
 * The ACME account key in its own Secrets Manager secret, JSON {"accountKey": PEM}: the stack creates it as
 * {} and the first renewal fills it in. Apart from the TLS secret, so the gateway never reads it.
 */
export class AcmeAccountSecret implements AccountKeyStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretArn: string,
  ) {}

  async read(): Promise<string | undefined> {
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretArn }));
    const parsed = JSON.parse(out.SecretString || '{}') as { accountKey?: unknown };
    return typeof parsed.accountKey === 'string' && parsed.accountKey ? parsed.accountKey : undefined;
  }

  async write(keyPem: string): Promise<void> {
    const SecretString = JSON.stringify({ accountKey: keyPem });
    await this.client.send(new PutSecretValueCommand({ SecretId: this.secretArn, SecretString }));
  }
}
