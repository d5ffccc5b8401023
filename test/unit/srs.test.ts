/**
 * The SRS codec (lib/delivery/srs.ts): the Mail::SRS / libsrs2 address shapes, keyed hash, day timestamp.
 * SRS exists because SPF checks the envelope sender's domain against the sending host (RFC 7208 §11.3), and
 * a forwarder that keeps the original sender (RFC 5321 §3.9.1) is not that domain's host.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSrsLocalPart, SrsCodec } from '../../lib/delivery/srs.ts';

const DAY = 86_400_000;
const SECRET = 'a test secret of some length';
const T0 = Date.UTC(2026, 11, 2, 12);

const codec = (now = T0, secret = SECRET) => new SrsCodec({ secret, maxAgeDays: 21, now: () => now });

describe('SRS codec', () => {
  it('SRS0: rewrites into our domain and reverses to the original sender', () => {
    const srs = codec().forward('Alice.Smith@Sender.Example', 'fwd.test');
    assert.match(srs, /^SRS0=[A-Z2-7]{6}=[A-Z2-7]{2}=Sender\.Example=Alice\.Smith@fwd\.test$/);
    assert.deepEqual(codec().reverse(srs), { ok: true, address: 'Alice.Smith@Sender.Example' });
  });

  it('a local part with "=" and "+" in it survives the round trip', () => {
    const srs = codec().forward('a=b+c@x.example', 'fwd.test');
    assert.deepEqual(codec().reverse(srs), { ok: true, address: 'a=b+c@x.example' });
  });

  it('is case-insensitive: a next hop that folds the address to lower or upper case still reverses it', () => {
    const srs = codec().forward('bob@sender.example', 'fwd.test');
    assert.deepEqual(codec().reverse(srs.toLowerCase()), { ok: true, address: 'bob@sender.example' });
    assert.deepEqual(codec().reverse(srs.toUpperCase()), { ok: true, address: 'BOB@SENDER.EXAMPLE' });
  });

  it('the null sender stays null (RFC 5321 §4.5.5), a sender of the forwarding domain itself is kept', () => {
    assert.equal(codec().forward('', 'fwd.test'), '');
    assert.equal(codec().forward('carol@FWD.test', 'fwd.test'), 'carol@FWD.test');
  });

  it('refuses a forged hash, another secret, and a changed original address', () => {
    const srs = codec().forward('bob@sender.example', 'fwd.test');
    const [, hash] = srs.split('=');
    const forged = srs.replace(hash, hash === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA');
    assert.deepEqual(codec().reverse(forged), { ok: false, reason: 'hash' });
    assert.deepEqual(codec(T0, 'another secret, also long').reverse(srs), { ok: false, reason: 'hash' });
    assert.deepEqual(codec().reverse(srs.replace('=bob@', '=mallory@')), { ok: false, reason: 'hash' });
    assert.deepEqual(codec().reverse(srs.replace('=sender.example=', '=evil.example=')), {
      ok: false,
      reason: 'hash',
    });
  });

  it('honours an address for 21 days, not 22, also across the 1024-day wrap of the timestamp', () => {
    const srs = codec().forward('bob@sender.example', 'fwd.test');
    assert.equal(codec(T0 + 21 * DAY).reverse(srs)?.ok, true);
    assert.deepEqual(codec(T0 + 22 * DAY).reverse(srs), { ok: false, reason: 'expired' });
    // made on the last day of a cycle, reversed on the fifth of the next
    const lastDay = (Math.floor(T0 / DAY / 1024) * 1024 + 1023) * DAY;
    const wrapped = codec(lastDay).forward('bob@sender.example', 'fwd.test');
    assert.equal(codec(lastDay + 5 * DAY).reverse(wrapped)?.ok, true);
    // a hash over the timestamp: changing the timestamp to today's breaks it
    const stale = codec(T0 - 30 * DAY).forward('bob@sender.example', 'fwd.test');
    const fresh = codec().forward('bob@sender.example', 'fwd.test');
    const restamped = stale.replace(stale.split('=')[2], fresh.split('=')[2]);
    assert.deepEqual(codec().reverse(restamped), { ok: false, reason: 'hash' });
  });

  it('SRS1: re-forwarding an SRS0 address keeps the first hop and its SRS0 part, and reverses to it', () => {
    const hop1 = codec(T0, 'first hop secret, long enough').forward('bob@sender.example', 'hop1.example');
    const srs1 = codec().forward(hop1, 'fwd.test');
    const opaque = hop1.slice(4, hop1.lastIndexOf('@')); // "=HHHHHH=TT=sender.example=bob"
    assert.equal(srs1, `SRS1=${srs1.split('=')[1]}=hop1.example=${opaque}@fwd.test`);
    assert.deepEqual(codec().reverse(srs1), { ok: true, address: hop1 });
    // forwarding an SRS1 address again keeps the first hop: the address does not grow
    const again = codec().forward(srs1, 'other.test');
    assert.equal(again.slice(0, again.lastIndexOf('@')), srs1.slice(0, srs1.lastIndexOf('@')));
    const tampered = srs1.replace('=hop1.example=', '=evil.example=');
    assert.deepEqual(codec().reverse(tampered), { ok: false, reason: 'hash' });
  });

  it('recognises SRS local parts with any libsrs2 separator, and says syntax for broken ones', () => {
    assert.equal(isSrsLocalPart('SRS0=x'), true);
    assert.equal(isSrsLocalPart('srs1+x'), true);
    assert.equal(isSrsLocalPart('srs0-x'), true);
    assert.equal(isSrsLocalPart('srs0x'), false);
    assert.equal(isSrsLocalPart('bob'), false);
    assert.equal(codec().reverse('bob@fwd.test'), undefined);
    assert.deepEqual(codec().reverse('SRS0=abc=de@fwd.test'), { ok: false, reason: 'syntax' });
    assert.deepEqual(codec().reverse('SRS0==AA=x=y@fwd.test'), { ok: false, reason: 'syntax' });
    assert.deepEqual(codec().reverse('SRS1=abc@fwd.test'), { ok: false, reason: 'syntax' });
  });

  it('after a rotation, addresses made with a previous secret still reverse; new ones use the new secret', () => {
    const made = codec().forward('bob@sender.example', 'fwd.test');
    const rotated = new SrsCodec({ secret: 'the new secret, also long', previousSecrets: [SECRET], now: () => T0 });
    assert.deepEqual(rotated.reverse(made), { ok: true, address: 'bob@sender.example' });
    assert.deepEqual(codec().reverse(rotated.forward('bob@sender.example', 'fwd.test')), { ok: false, reason: 'hash' });
  });

  it('wants a secret of at least 16 characters', () => {
    assert.throws(() => new SrsCodec({ secret: 'short' }), /16 characters/);
    assert.throws(() => new SrsCodec({ secret: SECRET, previousSecrets: ['short'] }), /16 characters/);
  });
});
