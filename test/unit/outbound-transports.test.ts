/** The transports' pure parts: reply mapping, DSN grouping, MX ordering, the limiter, the factory. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createTransport, TransportConfigError } from '../../lib/outbound/transports/index.ts';
import { KeyedLimiter } from '../../lib/outbound/transports/keyedLimiter.ts';
import { orderByPreference } from '../../lib/outbound/transports/mxRoute.ts';
import { OutboxTransport } from '../../lib/outbound/transports/outbox.ts';
import { oneLine, outcome, resultOfCode } from '../../lib/outbound/transports/replies.ts';
import { dsnGroups } from '../../lib/outbound/transports/smtpTransaction.ts';
import { stubResolver } from '../../lib/pipeline/dns.ts';
import { envelope } from '../support/outbound.ts';

describe('replies', () => {
  it('2xx delivered, 4xx deferred, 5xx failed, anything else deferred (RFC 5321 §4.2.1)', () => {
    assert.equal(resultOfCode(250), 'delivered');
    assert.equal(resultOfCode(251), 'delivered');
    assert.equal(resultOfCode(421), 'deferred');
    assert.equal(resultOfCode(452), 'deferred');
    assert.equal(resultOfCode(550), 'failed');
    assert.equal(resultOfCode(554), 'failed');
    assert.equal(resultOfCode(undefined), 'deferred');
    assert.equal(resultOfCode(354), 'deferred');
  });

  it('a multi-line reply becomes one line', () => {
    assert.equal(
      oneLine('550-5.7.1 first\n550-5.7.1 second\n550 5.7.1 third'),
      '550 5.7.1 first 5.7.1 second 5.7.1 third',
    );
    assert.equal(outcome('a@b', '550-x\n550 y').result, 'failed');
    assert.equal(outcome('a@b', 'garbage').result, 'deferred');
  });
});

describe('DSN groups', () => {
  it('recipients with the same NOTIFY and ORCPT share a transaction; NEVER is the empty list', () => {
    const groups = dsnGroups(
      envelope([], {
        dsn: {
          ret: 'FULL',
          envId: 'X',
          recipients: { 'a@r': { notify: ['SUCCESS'] }, 'b@r': { notify: ['SUCCESS'] }, 'c@r': { notify: [] } },
        },
      }),
      ['a@r', 'b@r', 'c@r', 'd@r'],
    );
    assert.deepEqual(
      groups.map((g) => [g.recipients, g.dsn]),
      [
        [['a@r', 'b@r'], { ret: 'FULL', envid: 'X', notify: 'SUCCESS', orcpt: undefined }],
        [['c@r'], { ret: 'FULL', envid: 'X', notify: 'NEVER', orcpt: undefined }],
        [['d@r'], { ret: 'FULL', envid: 'X', notify: undefined, orcpt: undefined }],
      ],
    );
  });

  it('no DSN parameters at all: one group, no dsn option', () => {
    assert.deepEqual(dsnGroups(envelope([]), ['a@r', 'b@r']), [{ recipients: ['a@r', 'b@r'], dsn: undefined }]);
  });
});

describe('MX order', () => {
  it('by preference; equal preferences in the order the random source gives', () => {
    const records = [
      { exchange: 'c', priority: 20 },
      { exchange: 'a', priority: 10 },
      { exchange: 'b', priority: 10 },
    ];
    const seen = new Set<string>();
    for (const r of [0, 0.3, 0.6, 0.99]) {
      const order = orderByPreference(records, () => r).map((x) => x.exchange);
      assert.equal(order[2], 'c');
      seen.add(order.slice(0, 2).join());
    }
    assert.deepEqual([...seen].sort(), ['a,b', 'b,a']);
  });
});

describe('createTransport', () => {
  it('builds each kind from the outbound settings, and says what is missing', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'postern-factory-'));
    const deps = { heloName: 'mail.ours.test' };
    try {
      const outbox = createTransport({ transport: 'outbox' }, { ...deps, dataDir });
      assert.ok(outbox instanceof OutboxTransport);
      assert.equal((outbox as OutboxTransport).dir, join(dataDir, 'outbox'));
      const relay = { host: 'relay', port: 587, tls: 'starttls' as const, user: 'u', password: 'p' };
      assert.equal(createTransport({ transport: 'smarthost', smarthost: relay }, deps).name, 'smarthost');
      assert.equal(createTransport({ transport: 'mx' }, { ...deps, resolver: stubResolver({}) }).name, 'mx');
      const ses = { name: 'ses', deliver: async () => [] };
      assert.equal(createTransport({ transport: 'ses' }, { ...deps, ses: () => ses }), ses);
      assert.throws(
        () => createTransport({ transport: 'smarthost', smarthost: { ...relay, tls: 'none' } }, deps),
        /in the clear/,
      );
      const local = { ...relay, host: '127.0.0.1', tls: 'none' as const };
      assert.equal(createTransport({ transport: 'smarthost', smarthost: local }, deps).name, 'smarthost');
      assert.throws(() => createTransport({ transport: 'outbox' }, deps), TransportConfigError);
      assert.throws(() => createTransport({ transport: 'smarthost' }, deps), /POSTERN_SMARTHOST/);
      assert.throws(() => createTransport({ transport: 'mx' }, deps), TransportConfigError);
      assert.throws(() => createTransport({ transport: 'ses' }, deps), TransportConfigError);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('KeyedLimiter', () => {
  it('runs at most max per key, others at once, and forgets idle keys', async () => {
    const limiter = new KeyedLimiter(2);
    let running = 0;
    let most = 0;
    const task = async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 10));
      running -= 1;
    };
    const other = limiter.run('b', async () => 'b');
    await Promise.all([...Array.from({ length: 5 }, () => limiter.run('a', task)), other]);
    assert.equal(most, 2);
    assert.equal(await other, 'b');
    assert.equal(limiter.size, 0);
    await assert.rejects(
      limiter.run('a', async () => Promise.reject(new Error('x'))),
      /x/,
    );
    assert.equal(limiter.size, 0);
  });
});
