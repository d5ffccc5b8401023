/**
 * The certrenew Lambda: daily (EventBridge) and once per deployment, issues or renews the gateway's
 * certificate when due (lib/certs/renew.ts); the gateway picks the new secret version up by itself.
 */
import { renewIfDue } from '../../lib/certs/renew.ts';
import { loadCertRenewalConfig } from '../../lib/core/config.ts';
import { createLogger } from '../../lib/core/log.ts';
import { certRenewalDeps } from '../../lib/storage/aws/certRenewalWiring.ts';

export async function handler(): Promise<{ action: string; notAfter: string }> {
  const config = loadCertRenewalConfig(process.env);
  const log = createLogger({ fields: { component: 'certrenew' } });
  const outcome = await renewIfDue(certRenewalDeps(config, log), config);
  return { action: outcome.action, notAfter: outcome.notAfter.toISOString() };
}
