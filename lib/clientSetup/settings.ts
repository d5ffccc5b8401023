/**
 * The clientconfig Lambda's settings, read once from its environment (the stack sets them from the same values
 * it publishes in DNS, so the served MTA-STS policy matches the `_mta-sts` record's id).
 */
import { normalizeDomain } from '../core/address.ts';
import { ConfigError, type Env, SettingsReader } from '../core/settings.ts';
import type { ClientSetupSettings } from './http.ts';
import { DEFAULT_MTA_STS_MAX_AGE, MAX_MTA_STS_MAX_AGE, MTA_STS_MODES } from './mtaSts.ts';

export const CLIENT_SETUP_ENV = {
  domain: 'POSTERN_MAIL_DOMAIN',
  host: 'POSTERN_HOSTNAME',
  mtaStsMode: 'POSTERN_MTA_STS_MODE',
  mtaStsMaxAge: 'POSTERN_MTA_STS_MAX_AGE',
} as const;

export function loadClientSetupSettings(env: Env): ClientSetupSettings {
  const s = new SettingsReader(env);
  const domain = s.optional(CLIENT_SETUP_ENV.domain);
  const host = s.optional(CLIENT_SETUP_ENV.host);
  if (!domain || !host) throw new ConfigError(`${CLIENT_SETUP_ENV.domain} and ${CLIENT_SETUP_ENV.host} are needed`);
  return {
    domain: normalizeDomain(domain),
    host: normalizeDomain(host),
    mtaSts: {
      mode: s.oneOf(CLIENT_SETUP_ENV.mtaStsMode, MTA_STS_MODES, 'testing'),
      maxAgeSeconds: s.int(CLIENT_SETUP_ENV.mtaStsMaxAge, DEFAULT_MTA_STS_MAX_AGE, 0, MAX_MTA_STS_MAX_AGE),
    },
  };
}
