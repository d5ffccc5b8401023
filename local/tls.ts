import { existsSync } from 'node:fs';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import { ensurePrivateDir, makePrivate, writePrivateFile } from './private.ts';

/** Makes a self-signed certificate for the emulator on first start (key and all, owner-only); later starts reuse it. */
export async function ensureCertificate(dir: string, hostname: string): Promise<{ certFile: string; keyFile: string }> {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  ensurePrivateDir(dir);
  if (existsSync(certFile) && existsSync(keyFile)) {
    makePrivate(dir);
    return { certFile, keyFile };
  }
  const notAfterDate = new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: hostname }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  writePrivateFile(keyFile, pems.private);
  writePrivateFile(certFile, pems.cert);
  return { certFile, keyFile };
}
