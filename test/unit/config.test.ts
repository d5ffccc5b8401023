import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../lib/core/config.ts';

const local = { POSTERN_INVOKER: 'local' };

describe('loadConfig', () => {
  it('builds every option set from one environment, with the documented defaults', () => {
    const c = loadConfig(local);
    assert.equal(c.net.host, '127.0.0.1');
    assert.equal(c.ports.smtp, 2525);
    assert.equal(c.smtp.maxMessageSize, 40 * 1024 * 1024);
    assert.equal(c.smtp.commandTimeoutMs, 300_000);
    assert.equal(c.pop3.idleTimeoutMs, 600_000);
    assert.equal(c.auth.failureDelayMs, 1000);
    assert.equal(c.allowPlaintextAuth, false);
    assert.deepEqual(c.invoker, { kind: 'local' });
    assert.equal(c.aws.names.tables.directory, 'postern-directory');
  });

  it('reads each setting by its name', () => {
    const c = loadConfig({
      ...local,
      POSTERN_SMTP_PORT: '25',
      POSTERN_SMTP_COMMAND_TIMEOUT_MS: '1000',
      POSTERN_AUTH_MAX_FAILURES_IP: '7',
      POSTERN_PROXY_PROTOCOL: 'yes',
      POSTERN_TABLE_PREFIX: 'x',
    });
    assert.equal(c.ports.smtp, 25);
    assert.equal(c.smtp.commandTimeoutMs, 1000);
    assert.equal(c.auth.maxFailuresPerIp, 7);
    assert.equal(c.net.proxyProtocol, true);
    assert.equal(c.aws.names.tables.messages, 'x-messages');
  });

  it('fails at start, naming the variable, on a malformed value', () => {
    const bad: Record<string, string>[] = [
      { POSTERN_PROXY_PROTOCOL: 'maybe' }, // an unknown boolean used to be silently false
      { POSTERN_SMTP_PORT: '70000' },
      { POSTERN_POP3_LEASE_MS: '12.5' },
      { POSTERN_AUTH_WINDOW_MS: 'soon' },
      { POSTERN_LOG_LEVEL: 'loud' },
      { POSTERN_INVOKER: 'remote' },
      { POSTERN_RETRY_SCHEDULE: '300,,600' },
      { POSTERN_RETRY_SCHEDULE: '0' },
      { POSTERN_RETRY_SCHEDULE: '5m' },
      { POSTERN_QUEUE_LIFETIME: '5 days' },
      { POSTERN_QUEUE_LIFETIME: '0' },
      { POSTERN_OUTBOUND_TRANSPORT: 'carrier-pigeon' },
      { POSTERN_SMARTHOST: 'relay.example.net' },
      { POSTERN_SMARTHOST: 'relay.example.net:99999' },
      { POSTERN_SMARTHOST_TLS: 'maybe' },
    ];
    for (const env of bad) {
      const [name] = Object.keys(env);
      assert.throws(
        () => loadConfig({ ...local, ...env }),
        (err: Error) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, new RegExp(name));
          return true;
        },
      );
    }
  });

  it('refuses unknown POSTERN_* names (a typo must not silently mean the default)', () => {
    assert.throws(
      () => loadConfig({ ...local, POSTERN_SMTP_COMAND_TIMEOUT_MS: '5' }),
      /POSTERN_SMTP_COMAND_TIMEOUT_MS/,
    );
    // settings of the emulator and the tests are known, and other programs' variables are not ours to judge
    assert.doesNotThrow(() => loadConfig({ ...local, POSTERN_DATA_DIR: '/tmp/x', POSTERN_TEST_S3: 'x', HOME: '/' }));
  });

  it('allows plaintext authentication only on loopback', () => {
    assert.equal(loadConfig({ ...local, POSTERN_ALLOW_PLAINTEXT_AUTH: '1' }).allowPlaintextAuth, true);
    assert.throws(
      () => loadConfig({ ...local, POSTERN_ALLOW_PLAINTEXT_AUTH: '1', POSTERN_HOST: '0.0.0.0' }),
      /POSTERN_ALLOW_PLAINTEXT_AUTH/,
    );
  });

  it('needs the function names when the functions are Lambdas', () => {
    assert.throws(() => loadConfig({}), /POSTERN_FN_ROUTE/);
    assert.throws(
      () => loadConfig({ POSTERN_FN_ROUTE: 'r', POSTERN_FN_FILTER: 'f', POSTERN_FN_STORE: 's' }),
      /POSTERN_FN_DELIVER/,
    );
    const c = loadConfig({
      POSTERN_FN_ROUTE: 'r',
      POSTERN_FN_FILTER: 'f',
      POSTERN_FN_STORE: 's',
      POSTERN_FN_DELIVER: 'd',
    });
    assert.deepEqual(c.invoker, {
      kind: 'lambda',
      functionNames: { route: 'r', filter: 'f', store: 's', deliver: 'd' },
    });
  });

  it('forwarding is off without POSTERN_SRS_SECRET; a short secret or a bad age fails at start', () => {
    assert.deepEqual(loadConfig(local).forwarding, { srsSecret: undefined, srsPreviousSecrets: [], srsMaxAgeDays: 21 });
    const on = loadConfig({
      ...local,
      POSTERN_SRS_SECRET: '0123456789abcdef',
      POSTERN_SRS_PREVIOUS_SECRETS: 'older secret number 1, older secret number 2',
      POSTERN_SRS_MAX_AGE_DAYS: '30',
    });
    assert.deepEqual(on.forwarding, {
      srsSecret: '0123456789abcdef',
      srsPreviousSecrets: ['older secret number 1', 'older secret number 2'],
      srsMaxAgeDays: 30,
    });
    assert.throws(() => loadConfig({ ...local, POSTERN_SRS_PREVIOUS_SECRETS: 'a,b' }), /POSTERN_SRS_PREVIOUS/);
    assert.throws(() => loadConfig({ ...local, POSTERN_SRS_SECRET: 'short' }), /POSTERN_SRS_SECRET/);
    assert.throws(() => loadConfig({ ...local, POSTERN_SRS_MAX_AGE_DAYS: '0' }), /POSTERN_SRS_MAX_AGE_DAYS/);
  });
});
