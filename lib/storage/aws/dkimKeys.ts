/**
 * DKIM keys in AWS Secrets Manager: one secret per domain, named `<prefix><domain>`, whose SecretString is the
 * domain's key document (lib/outbound/dkimKeyStore.ts). Secrets Manager encrypts it with KMS; only the deliver
 * function (which signs) and the admin CLI are meant to be allowed to read it.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { keyStoreOver } from '../../outbound/dkimKeyStore.ts';
import type { DkimKeyAdmin } from '../../outbound/dkimKeys.ts';

export interface SecretsManagerKeyStoreOptions {
  /** Prefix of the secret names, e.g. `postern/dkim/`. */
  readonly prefix: string;
  readonly client: SecretsManagerClient;
}

const isNotFound = (err: unknown) => err instanceof ResourceNotFoundException;

export function secretsManagerDkimKeyStore({ prefix, client }: SecretsManagerKeyStoreOptions): DkimKeyAdmin {
  const secretId = (domain: string) => `${prefix}${domain}`;
  return keyStoreOver({
    async read(domain) {
      try {
        const out = await client.send(new GetSecretValueCommand({ SecretId: secretId(domain) }));
        return out.SecretString;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async write(domain, text) {
      // The first key of a domain creates its secret; later ones add a version (the old is kept as AWSPREVIOUS).
      try {
        await client.send(new PutSecretValueCommand({ SecretId: secretId(domain), SecretString: text }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await client.send(
          new CreateSecretCommand({
            Name: secretId(domain),
            SecretString: text,
            Description: `Postern DKIM keys of ${domain}`,
          }),
        );
      }
    },
    async delete(domain) {
      // Without recovery: `domain add` of the same domain later must be able to create the secret again.
      try {
        await client.send(new DeleteSecretCommand({ SecretId: secretId(domain), ForceDeleteWithoutRecovery: true }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  });
}
