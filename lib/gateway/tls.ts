import { readFileSync } from 'node:fs';
import type { TlsSource } from '../core/config.ts';
import type { TlsMaterial } from '../net/types.ts';
import { loadTlsSecret } from '../storage/aws/tlsSecret.ts';

/**
 * The gateway's certificate: PEM files (the emulator makes a self-signed pair on first start), or in AWS a
 * Secrets Manager secret (POSTERN_TLS_SECRET_ARN).
 */
export async function loadTls(source: TlsSource): Promise<TlsMaterial> {
  switch (source.kind) {
    case 'files':
      return { cert: readFileSync(source.certFile, 'utf8'), key: readFileSync(source.keyFile, 'utf8') };
    case 'secret':
      return loadTlsSecret(source.secretArn);
    case 'none':
      throw new Error(
        'no TLS certificate: set POSTERN_TLS_CERT_FILE and POSTERN_TLS_KEY_FILE, or POSTERN_TLS_SECRET_ARN',
      );
  }
}
