import { X509Certificate } from 'node:crypto';

/** What renewal and the gateway's log need to know of a certificate (the first one of a PEM chain). */
export interface CertificateFacts {
  readonly notAfter: Date;
  readonly serialNumber: string;
  readonly issuer: string;
  /** Whether the certificate is valid for `hostname` (its subjectAltName; wildcards as TLS clients match them). */
  covers(hostname: string): boolean;
}

export function certificateFacts(pem: string): CertificateFacts {
  const cert = new X509Certificate(pem);
  return {
    notAfter: new Date(cert.validTo),
    serialNumber: cert.serialNumber,
    issuer: cert.issuer.replace(/\n/g, ', '),
    covers: (hostname) => cert.checkHost(hostname, { subject: 'never' }) !== undefined,
  };
}
