import { type Config, EPHEMERAL_PORTS_ENV, loadConfig } from '../../lib/core/config.ts';
import type { Env } from '../../lib/core/settings.ts';

/**
 * The configuration a test or benchmark gateway starts from: loopback, every listener on an ephemeral port,
 * the mail-logic functions in-process, plus `env`. Tests build configs; they never change process.env.
 */
export function testConfig(env: Env = {}): Config {
  return loadConfig({ POSTERN_INVOKER: 'local', ...EPHEMERAL_PORTS_ENV, ...env });
}
