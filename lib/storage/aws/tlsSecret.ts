import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { TlsMaterial } from '../../net/types.ts';

/** One version of the TLS secret: the pair, or no pair while it still holds the stack's placeholder. */
export interface TlsSecretVersion {
  readonly versionId: string;
  readonly material?: TlsMaterial;
}

/**
 * The gateway's certificate in a Secrets Manager secret holding JSON {"cert": PEM chain, "key": PEM}. The stack
 * creates it as {"cert": "", "key": ""} (the placeholder); the renewal function (or the operator) fills it in.
 */
export class TlsSecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    readonly secretArn: string,
  ) {}

  /** The AWSCURRENT version's id: a DescribeSecret, so a poll never fetches the key itself. */
  async currentVersionId(): Promise<string | undefined> {
    const out = await this.client.send(new DescribeSecretCommand({ SecretId: this.secretArn }));
    const stages = Object.entries(out.VersionIdsToStages ?? {});
    return stages.find(([, names]) => names.includes('AWSCURRENT'))?.[0];
  }

  async readVersion(): Promise<TlsSecretVersion> {
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretArn }));
    return { versionId: out.VersionId ?? '', material: parseTlsSecret(out.SecretString ?? '') };
  }

  /** The certificate store of the renewal (lib/certs/ports.ts). */
  async read(): Promise<TlsMaterial | undefined> {
    return (await this.readVersion()).material;
  }

  async write(material: TlsMaterial): Promise<void> {
    const SecretString = JSON.stringify({ cert: material.cert, key: material.key });
    await this.client.send(new PutSecretValueCommand({ SecretId: this.secretArn, SecretString }));
  }
}

/** The pair in a secret's text; undefined for the placeholder (both empty or absent); throws when malformed. */
export function parseTlsSecret(text: string): TlsMaterial | undefined {
  let parsed: { cert?: unknown; key?: unknown };
  try {
    parsed = JSON.parse(text || '{}') as typeof parsed;
  } catch {
    throw new Error('TLS secret must be JSON with "key" and "cert" PEM strings');
  }
  const { cert, key } = parsed;
  if (!cert && !key) return undefined;
  if (typeof cert !== 'string' || typeof key !== 'string' || !cert || !key) {
    throw new Error('TLS secret must be JSON with "key" and "cert" PEM strings');
  }
  return { cert, key };
}
