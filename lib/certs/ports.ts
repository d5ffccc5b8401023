import type { TlsMaterial } from '../net/types.ts';

/** Publishes the DNS-01 challenge (RFC 8555 §8.4): a TXT record under `_acme-challenge.<host>`. */
export interface DnsChallengeWriter {
  /** Sets TXT `name` to `value`; resolves once the zone's name servers answer it (Route 53: INSYNC). */
  set(name: string, value: string): Promise<void>;
  /** Removes what `set` put there. */
  remove(name: string, value: string): Promise<void>;
}

/** Where the gateway's certificate lives (the TLS secret): undefined while it holds no pair yet. */
export interface CertificateStore {
  read(): Promise<TlsMaterial | undefined>;
  write(material: TlsMaterial): Promise<void>;
}

/** The ACME account's private key (PEM), kept apart from the certificate: one account for every renewal. */
export interface AccountKeyStore {
  read(): Promise<string | undefined>;
  write(keyPem: string): Promise<void>;
}
