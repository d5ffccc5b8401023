import { readFileSync } from 'node:fs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { GatewayConfig } from '../core/config.ts';
import type { TlsMaterial } from './types.ts';

/**
 * The gateway's certificate: PEM files (the emulator makes a self-signed pair on first start), or in AWS a
 * Secrets Manager secret holding JSON {"key": PEM, "cert": PEM} named by POSTERN_TLS_SECRET_ARN.
 */
export async function loadTls(config: GatewayConfig, env: NodeJS.ProcessEnv = process.env): Promise<TlsMaterial> {
  if (config.tlsCertFile && config.tlsKeyFile) {
    return { cert: readFileSync(config.tlsCertFile, 'utf8'), key: readFileSync(config.tlsKeyFile, 'utf8') };
  }
  if (env.POSTERN_TLS_SECRET_ARN) {
    const client = new SecretsManagerClient({});
    const out = await client.send(new GetSecretValueCommand({ SecretId: env.POSTERN_TLS_SECRET_ARN }));
    client.destroy();
    const parsed = JSON.parse(out.SecretString ?? '{}') as Partial<TlsMaterial>;
    if (!parsed.key || !parsed.cert) throw new Error('TLS secret must be JSON with "key" and "cert" PEM strings');
    return { key: parsed.key, cert: parsed.cert };
  }
  throw new Error('no TLS certificate: set POSTERN_TLS_CERT_FILE and POSTERN_TLS_KEY_FILE, or POSTERN_TLS_SECRET_ARN');
}
