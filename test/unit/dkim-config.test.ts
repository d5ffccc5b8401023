import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, loadDkimConfig } from '../../lib/core/config.ts';

describe('DKIM configuration', () => {
  it('defaults to Secrets Manager under postern/dkim/ with the standard endpoint variables', () => {
    assert.deepEqual(loadDkimConfig({}), {
      store: 'secrets-manager',
      secretPrefix: 'postern/dkim/',
      secretsEndpoint: undefined,
      region: undefined,
    });
    const env = {
      POSTERN_DKIM_KEY_STORE: 'local',
      POSTERN_DKIM_SECRET_PREFIX: 'mail/keys/',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:2',
      AWS_REGION: 'eu-west-1',
    };
    assert.deepEqual(loadDkimConfig(env), {
      store: 'local',
      secretPrefix: 'mail/keys/',
      secretsEndpoint: 'http://127.0.0.1:2',
      region: 'eu-west-1',
    });
    assert.equal(loadConfig({ POSTERN_INVOKER: 'local', ...env }).dkim.store, 'local');
  });

  it('refuses an unknown key store, naming the setting', () => {
    assert.throws(
      () => loadDkimConfig({ POSTERN_DKIM_KEY_STORE: 'kms' }),
      (err: Error) => {
        return err instanceof ConfigError && err.message.includes('POSTERN_DKIM_KEY_STORE');
      },
    );
  });
});
