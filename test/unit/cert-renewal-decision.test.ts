/** renewalReason (lib/certs/renew.ts): when a stored certificate must be replaced, decided from it alone. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import selfsigned from 'selfsigned';
import { renewalReason } from '../../lib/certs/renew.ts';

const DAY = 86_400_000;
const notAfter = new Date('2027-03-01T00:00:00Z');
const pems = await selfsigned.generate([{ name: 'commonName', value: 'mail.example.org' }], {
  keySize: 2048,
  algorithm: 'sha256',
  notBeforeDate: new Date('2026-12-01T00:00:00Z'),
  notAfterDate: notAfter,
  extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'mail.example.org' }] }],
});
const stored = { cert: pems.cert, key: pems.private };
const settings = { hostname: 'mail.example.org', renewBeforeDays: 30 };

describe('renewal decision', () => {
  it('nothing stored, or a pair that does not parse: issue', () => {
    assert.equal(renewalReason(undefined, settings, new Date()), 'none stored');
    assert.equal(renewalReason({ cert: 'garbage', key: 'x' }, settings, new Date()), 'unreadable');
  });

  it('a certificate for another name (the host name changed): issue', () => {
    assert.equal(
      renewalReason(stored, { ...settings, hostname: 'mx.example.org' }, new Date('2027-01-01')),
      'other host name',
    );
  });

  it('keeps it until fewer than renewBeforeDays remain, then renews', () => {
    const windowOpens = notAfter.getTime() - 30 * DAY;
    assert.equal(renewalReason(stored, settings, new Date(windowOpens - 1000)), undefined);
    assert.equal(renewalReason(stored, settings, new Date(windowOpens)), 'expiring');
    assert.equal(renewalReason(stored, { ...settings, renewBeforeDays: 10 }, new Date(windowOpens)), undefined);
  });
});
