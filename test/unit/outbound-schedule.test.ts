/** The outbound configuration section (lib/core/config.ts) and the retry schedule (lib/outbound/schedule.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY_SCHEDULE, loadConfig, loadOutboundConfig } from '../../lib/core/config.ts';
import { expired, nextAttemptAt, retryDelayMs } from '../../lib/outbound/schedule.ts';

const local = { POSTERN_INVOKER: 'local' };
const DAY = 86_400_000;

describe('outbound configuration', () => {
  it('defaults: Postfix-like retries, 5 days, delay notice at 4 hours, SES', () => {
    const c = loadConfig(local).outbound;
    assert.deepEqual(c.retrySchedule, [300, 300, 600, 1200, 2400, 4000]);
    assert.equal(c.queueLifetimeMs, 5 * DAY);
    assert.equal(c.delayWarningMs, 4 * 3_600_000);
    assert.equal(c.transport, 'ses');
    assert.equal(c.smarthost, undefined);
    assert.equal(c.pollMs, 5000);
  });

  it('reads the schedule, the lifetime and the transport', () => {
    const c = loadOutboundConfig({
      POSTERN_RETRY_SCHEDULE: '1, 2,5',
      POSTERN_QUEUE_LIFETIME: '2h',
      POSTERN_DELAY_WARNING: '90',
      POSTERN_OUTBOUND_TRANSPORT: 'mx',
      POSTERN_QUEUE_POLL_MS: '250',
    });
    assert.deepEqual(c.retrySchedule, [1, 2, 5]);
    assert.equal(c.queueLifetimeMs, 7_200_000);
    assert.equal(c.delayWarningMs, 90_000);
    assert.equal(c.transport, 'mx');
    assert.equal(c.pollMs, 250);
  });

  it('a smarthost: host:port, AUTH both or neither, TLS mode; naming one chooses the smarthost transport', () => {
    const c = loadOutboundConfig({
      POSTERN_SMARTHOST: 'relay.example.net:587',
      POSTERN_SMARTHOST_USER: 'u',
      POSTERN_SMARTHOST_PASSWORD: 'p',
    });
    assert.equal(c.transport, 'smarthost');
    assert.deepEqual(c.smarthost, { host: 'relay.example.net', port: 587, user: 'u', password: 'p', tls: 'starttls' });
    assert.deepEqual(loadOutboundConfig({ POSTERN_SMARTHOST: '[::1]:2525', POSTERN_SMARTHOST_TLS: 'none' }).smarthost, {
      host: '::1',
      port: 2525,
      user: undefined,
      password: undefined,
      tls: 'none',
    });
    assert.equal(
      loadOutboundConfig({ POSTERN_SMARTHOST: 'h:25', POSTERN_OUTBOUND_TRANSPORT: 'outbox' }).smarthost,
      undefined,
    );
  });

  // Malformed values of each setting: in config.test.ts, with every other section's.
  it('refuses a smarthost transport without a smarthost, and AUTH without both halves', () => {
    assert.throws(() => loadOutboundConfig({ POSTERN_OUTBOUND_TRANSPORT: 'smarthost' }), /POSTERN_SMARTHOST=host:port/);
    assert.throws(() => loadOutboundConfig({ POSTERN_SMARTHOST: 'h:25', POSTERN_SMARTHOST_USER: 'u' }), /together/);
  });

  it('the names are registered: loadConfig knows them all', () => {
    const env = {
      ...local,
      POSTERN_RETRY_SCHEDULE: '60',
      POSTERN_QUEUE_LIFETIME: '1d',
      POSTERN_DELAY_WARNING: '1h',
      POSTERN_OUTBOUND_TRANSPORT: 'smarthost',
      POSTERN_SMARTHOST: 'h:25',
      POSTERN_SMARTHOST_USER: 'u',
      POSTERN_SMARTHOST_PASSWORD: 'p',
      POSTERN_SMARTHOST_TLS: 'implicit',
      POSTERN_QUEUE_POLL_MS: '1000',
      POSTERN_QUEUE_CONCURRENCY: '2',
    };
    assert.doesNotThrow(() => loadConfig(env));
    assert.throws(() => loadConfig({ ...local, POSTERN_RETRY_SHEDULE: '60' }), /POSTERN_RETRY_SHEDULE/);
  });
});

describe('retry schedule', () => {
  const policy = { retrySchedule: DEFAULT_RETRY_SCHEDULE, queueLifetimeMs: 5 * DAY };

  it('waits the n-th step after the n-th attempt, the last step repeating (Postfix: 4000 s at most)', () => {
    const waits = [1, 2, 3, 4, 5, 6, 7, 50].map((n) => retryDelayMs(policy, n) / 1000);
    assert.deepEqual(waits, [300, 300, 600, 1200, 2400, 4000, 4000, 4000]);
  });

  it('attempts over 5 days: about a hundred, the last one at the end of the lifetime', () => {
    const created = 0;
    let at = created;
    let attempts = 0;
    while (!expired(policy, created, at)) {
      attempts++;
      at = nextAttemptAt(policy, created, at, attempts);
    }
    assert.equal(at, 5 * DAY, 'the final attempt comes exactly at the lifetime');
    // Attempts at 0, 300, 600, 1200, 2400, 4800 s (6), then 8800 + 4000k s below 432000 s (k = 0..105: 106),
    // then the one at 5 days that finds the message expired: 113 in all.
    assert.equal(attempts + 1, 113);
  });

  it('expires at the lifetime, not before', () => {
    assert.equal(expired(policy, 1000, 1000 + 5 * DAY - 1), false);
    assert.equal(expired(policy, 1000, 1000 + 5 * DAY), true);
  });
});
