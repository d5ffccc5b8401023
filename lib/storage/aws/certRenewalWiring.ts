/** What the certificate renewal function is built from: Route 53 for DNS-01, the two secrets as stores. */
import { Route53Client } from '@aws-sdk/client-route-53';
import type { RenewalDeps } from '../../certs/renew.ts';
import type { CertRenewalConfig } from '../../core/config.ts';
import type { Logger } from '../../core/log.ts';
import { AcmeAccountSecret } from './acmeAccountSecret.ts';
import { makeSecretsManagerClient } from './clients.ts';
import { Route53ChallengeWriter } from './route53Challenge.ts';
import { TlsSecretStore } from './tlsSecret.ts';

export function certRenewalDeps(config: CertRenewalConfig, log: Logger): RenewalDeps {
  const secrets = makeSecretsManagerClient({ endpoint: config.secretsEndpoint, region: config.region });
  return {
    certificates: new TlsSecretStore(secrets, config.tlsSecretArn),
    accountKeys: new AcmeAccountSecret(secrets, config.accountSecretArn),
    dns: new Route53ChallengeWriter(new Route53Client({}), config.hostedZoneId),
    log,
  };
}
