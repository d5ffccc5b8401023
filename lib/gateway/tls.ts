import { readFile, stat } from 'node:fs/promises';
import { certificateFacts } from '../certs/certificate.ts';
import type { TlsSource } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { LiveTls } from '../net/liveTls.ts';
import type { TlsMaterial } from '../net/types.ts';
import { makeSecretsManagerClient } from '../storage/aws/clients.ts';
import { TlsSecretStore } from '../storage/aws/tlsSecret.ts';

/** Where the certificate is read from: a cheap version check, and the read itself (no pair: a placeholder). */
export interface TlsReader {
  version(): Promise<string | undefined>;
  read(): Promise<{ readonly version: string | undefined; readonly material?: TlsMaterial }>;
}

/** The certificate the gateway serves, kept current: polled every reloadMs, and on reloadNow (SIGHUP). */
export interface ServedTls {
  readonly tls: LiveTls;
  /** Reads the certificate again even if its version looks unchanged. */
  reloadNow(): Promise<void>;
  stop(): void;
}

/** PEM files (the emulator's self-signed pair, or the operator's); their version is their size and mtime. */
export function fileTlsReader(certFile: string, keyFile: string): TlsReader {
  const version = async () => {
    const [c, k] = await Promise.all([stat(certFile), stat(keyFile)]);
    return `${c.size}:${c.mtimeMs}:${k.size}:${k.mtimeMs}`;
  };
  return {
    version,
    read: async () => {
      const v = await version();
      const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
      return { version: v, material: { cert, key } };
    },
  };
}

/** A Secrets Manager secret (POSTERN_TLS_SECRET_ARN); polling costs one DescribeSecret. */
export function secretTlsReader(store: TlsSecretStore): TlsReader {
  return {
    version: () => store.currentVersionId(),
    read: async () => {
      const { versionId, material } = await store.readVersion();
      return { version: versionId, material };
    },
  };
}

export function tlsReaderFor(source: TlsSource): TlsReader {
  switch (source.kind) {
    case 'files':
      return fileTlsReader(source.certFile, source.keyFile);
    case 'secret':
      return secretTlsReader(new TlsSecretStore(makeSecretsManagerClient(source), source.secretArn));
    case 'none':
      throw new Error(
        'no TLS certificate: set POSTERN_TLS_CERT_FILE and POSTERN_TLS_KEY_FILE, or POSTERN_TLS_SECRET_ARN',
      );
  }
}

/**
 * Loads the certificate and keeps it current. A placeholder (the stack's empty secret before the first
 * issuance) is served as a temporary self-signed certificate for `hostname`, with a warning, rather than
 * refusing to start; a read that fails at start still throws (a wrong ARN or a missing grant must be seen).
 */
export async function serveTls(
  reader: TlsReader,
  opts: { readonly hostname: string; readonly reloadMs: number; readonly log: Logger },
): Promise<ServedTls> {
  const { log } = opts;
  const first = await reader.read();
  const tls = new LiveTls(first.material ?? (await temporaryCertificate(opts.hostname, log)));
  if (first.material) log.info('tls certificate loaded', describe(first.material));
  let loaded = first.version;
  let running: Promise<void> | undefined;

  const check = async (force: boolean) => {
    const version = await reader.version();
    if (!force && version === loaded) return;
    const next = await reader.read();
    loaded = next.version;
    if (!next.material) {
      log.warn('tls certificate source holds no certificate: still serving the previous one');
      return;
    }
    tls.replace(next.material);
    log.info('tls certificate reloaded', describe(next.material));
  };
  const run = (force: boolean) => {
    running ??= check(force)
      .catch((err: unknown) => log.warn('tls certificate reload failed: still serving the previous one', { err }))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void run(false), opts.reloadMs);
  timer.unref();
  return { tls, reloadNow: () => run(true), stop: () => clearInterval(timer) };
}

function describe(material: TlsMaterial): Record<string, unknown> {
  try {
    const facts = certificateFacts(material.cert);
    return { notAfter: facts.notAfter.toISOString(), serialNumber: facts.serialNumber, issuer: facts.issuer };
  } catch {
    return {};
  }
}

/** A self-signed pair for `hostname`, until the real certificate arrives (clients will not trust it). */
async function temporaryCertificate(hostname: string, log: Logger): Promise<TlsMaterial> {
  log.warn('tls certificate not issued yet: serving a temporary self-signed certificate', { hostname });
  // loaded on this path only: a gateway with its certificate never needs it
  const { default: selfsigned } = await import('selfsigned');
  const pems = await selfsigned.generate([{ name: 'commonName', value: hostname }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 30 * 24 * 3600_000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: hostname }] }],
  });
  return { key: pems.private, cert: pems.cert };
}
