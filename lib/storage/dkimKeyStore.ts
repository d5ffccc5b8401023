/**
 * Opens the DKIM key store that the configuration names: the emulator's files under the data directory, or
 * Secrets Manager in AWS. The caller that signs (the deliver step) and the admin CLI are its only users.
 */
import type { DkimConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { MessageSigner } from '../core/outbound.ts';
import type { DkimKeyAdmin } from '../outbound/dkimKeys.ts';
import { dkimKeyDir, localDkimKeyStore } from '../outbound/dkimLocalKeys.ts';
import { DkimMessageSigner } from '../outbound/dkimSigner.ts';
import { makeSecretsManagerClient } from './aws/clients.ts';
import { secretsManagerDkimKeyStore } from './aws/dkimKeys.ts';

export interface OpenedDkimKeyStore {
  readonly store: DkimKeyAdmin;
  close(): void;
}

/** `dataDir` is the emulator's data directory, needed by the local store only. */
export function openDkimKeyStore(config: DkimConfig, opts: { dataDir?: string } = {}): OpenedDkimKeyStore {
  if (config.store === 'local') {
    if (!opts.dataDir) throw new Error('the local DKIM key store needs the data directory');
    return { store: localDkimKeyStore(dkimKeyDir(opts.dataDir)), close: () => {} };
  }
  const client = makeSecretsManagerClient({ endpoint: config.secretsEndpoint, region: config.region });
  return { store: secretsManagerDkimKeyStore({ prefix: config.secretPrefix, client }), close: () => client.destroy() };
}

/** The deliver step's signer over the configured key store (lib/outbound/dkimSigner.ts). */
export function openDkimSigner(
  config: DkimConfig,
  opts: { dataDir?: string; logger: Logger },
): { readonly signer: MessageSigner; close(): void } {
  const keys = openDkimKeyStore(config, opts);
  return { signer: new DkimMessageSigner({ keys: keys.store, logger: opts.logger }), close: keys.close };
}
