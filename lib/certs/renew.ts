import acme from 'acme-client';
import type { Logger } from '../core/log.ts';
import type { TlsMaterial } from '../net/types.ts';
import { certificateFacts } from './certificate.ts';
import type { AccountKeyStore, CertificateStore, DnsChallengeWriter } from './ports.ts';

export interface RenewalSettings {
  /** The name the certificate is for: the gateway's host name. */
  readonly hostname: string;
  readonly directoryUrl: string;
  /** Contact address of the ACME account (optional for Let's Encrypt). */
  readonly email?: string;
  /** Renew when fewer than this many days remain. */
  readonly renewBeforeDays: number;
}

export interface RenewalDeps {
  readonly certificates: CertificateStore;
  readonly accountKeys: AccountKeyStore;
  readonly dns: DnsChallengeWriter;
  readonly log: Logger;
}

/** Why a certificate must be issued now; undefined: the stored one is good. */
export type RenewalReason = 'none stored' | 'unreadable' | 'other host name' | 'expiring';

export type RenewalOutcome =
  | { readonly action: 'kept'; readonly notAfter: Date }
  | { readonly action: 'issued'; readonly reason: RenewalReason; readonly notAfter: Date };

/** The pure decision: is the stored pair missing, for another name, or within the renewal window at `now`? */
export function renewalReason(
  stored: TlsMaterial | undefined,
  settings: Pick<RenewalSettings, 'hostname' | 'renewBeforeDays'>,
  now: Date,
): RenewalReason | undefined {
  if (!stored) return 'none stored';
  let facts: ReturnType<typeof certificateFacts>;
  try {
    facts = certificateFacts(stored.cert);
  } catch {
    return 'unreadable';
  }
  if (!facts.covers(settings.hostname)) return 'other host name';
  const renewAt = facts.notAfter.getTime() - settings.renewBeforeDays * 86_400_000;
  return now.getTime() >= renewAt ? 'expiring' : undefined;
}

/** Issues a certificate for the host name when renewalReason says so, and stores it; otherwise does nothing. */
export async function renewIfDue(
  deps: RenewalDeps,
  settings: RenewalSettings,
  now = new Date(),
): Promise<RenewalOutcome> {
  const stored = await deps.certificates.read();
  const reason = renewalReason(stored, settings, now);
  if (!reason && stored) {
    const { notAfter } = certificateFacts(stored.cert);
    deps.log.info('certificate still valid: nothing to do', { hostname: settings.hostname, notAfter });
    return { action: 'kept', notAfter };
  }
  deps.log.info('issuing a certificate', { hostname: settings.hostname, reason, directory: settings.directoryUrl });
  const issued = await issueCertificate(deps, settings);
  await deps.certificates.write(issued);
  const { notAfter, serialNumber } = certificateFacts(issued.cert);
  deps.log.info('certificate stored', { hostname: settings.hostname, notAfter, serialNumber });
  return { action: 'issued', reason: reason ?? 'none stored', notAfter };
}

/** One ACME order for the host name, validated by DNS-01 (no port 80 needed, works before the gateway runs). */
export async function issueCertificate(deps: RenewalDeps, settings: RenewalSettings): Promise<TlsMaterial> {
  const client = new acme.Client({ directoryUrl: settings.directoryUrl, accountKey: await accountKey(deps) });
  // RSA 2048: the key every mail client and MTA accepts
  const [key, csr] = await acme.crypto.createCsr({ commonName: settings.hostname, altNames: [settings.hostname] });
  const txtName = (authz: acme.Authorization) => `_acme-challenge.${authz.identifier.value}`;
  const cert = await client.auto({
    csr,
    email: settings.email,
    termsOfServiceAgreed: true,
    challengePriority: ['dns-01'],
    // the writer resolves only once the zone serves the record; acme-client's own check would ask the local
    // resolver, which may have cached the record's absence
    skipChallengeVerification: true,
    challengeCreateFn: (authz, _challenge, keyAuthorization) => deps.dns.set(txtName(authz), keyAuthorization),
    challengeRemoveFn: (authz, _challenge, keyAuthorization) => deps.dns.remove(txtName(authz), keyAuthorization),
  });
  return { cert, key: key.toString() };
}

/** The account key, made (ECDSA P-256) and stored on first use. */
async function accountKey(deps: RenewalDeps): Promise<string> {
  const stored = await deps.accountKeys.read();
  if (stored) return stored;
  const made = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
  await deps.accountKeys.write(made);
  deps.log.info('ACME account key created');
  return made;
}
