/**
 * The ARC set of a forwarded copy (RFC 8617): ARC-Authentication-Results with what our MX's filter found,
 * ARC-Message-Signature over the message as it is sent, and ARC-Seal over the chain, with mailauth's
 * createSeal. Signed with the forwarding domain's RSA DKIM key: rsa-sha256 is the one algorithm RFC 8617
 * validators must support (§4.1.3 refers to DKIM's, and Ed25519 ARC is not widely verified yet).
 */
import type { Readable } from 'node:stream';
import { createSeal } from 'mailauth';
import type { ArcSealInput, DkimPrivateKey } from '../core/outbound.ts';

export interface ArcSetResult {
  /** The three fields, CRLF-terminated, to put above the message; '' when none was made. */
  readonly fields: string;
  readonly errors: readonly string[];
}

/** The key an ARC set is signed with: the newest RSA key of the domain, if any. */
export function arcKey(keys: readonly DkimPrivateKey[]): DkimPrivateKey | undefined {
  return keys.find((k) => k.algorithm === 'rsa-sha256');
}

export async function arcSet(
  key: DkimPrivateKey,
  message: Readable,
  arc: ArcSealInput,
  signTime: Date,
): Promise<ArcSetResult> {
  const { headers, errors } = await createSeal(message, {
    seal: {
      signingDomain: key.domain,
      selector: key.selector,
      privateKey: key.privateKeyPem,
      algorithm: 'rsa-sha256',
      authResults: arc.authResults,
      cv: arc.cv,
      signTime,
    },
  });
  return {
    fields: headers.length ? `${headers.join('\r\n')}\r\n` : '',
    errors: errors.map((e) => e.err.message),
  };
}
