/**
 * Password hashing (lib/core/password.ts): argon2id in the PHC string format, legacy scrypt hashes still
 * verifying, needsRehash for anything not at the current parameters, and stored parameters kept in bounds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ARGON2_PARAMETERS, hashPassword, needsRehash, verifyPassword } from '../../lib/core/password.ts';

/** The argon2id vector of the reference implementation (phc-winner-argon2 src/test.c, v=19, t=2, m=2^16, p=1). */
const REFERENCE_ARGON2ID = '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc';
/** A hash the previous hashPassword stored (scrypt N=16384 r=8 p=1) for 'correct horse battery staple'. */
const LEGACY_SCRYPT = 'scrypt$16384$8$1$b/isZ6D+C8lAv7tcRKLRhw==$gQEsuFAOGCPO3h2oyzhmDZtX4KvG5N2M29Bm90U00+Q=';

describe('password hashing', () => {
  it('hashes with argon2id at OWASP parameters (m=19 MiB, t=2, p=1) as a PHC string, salted', async () => {
    const { memoryKiB, passes, parallelism } = ARGON2_PARAMETERS;
    assert.deepEqual([memoryKiB, passes, parallelism], [19 * 1024, 2, 1]);
    const h1 = await hashPassword('correct horse');
    const h2 = await hashPassword('correct horse');
    // 16-byte salt and 32-byte hash in base64 without padding (the PHC string format).
    assert.match(h1, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(h1, h2);
    assert.equal(await verifyPassword('correct horse', h1), true);
    assert.equal(await verifyPassword('correct hors', h1), false);
    assert.equal(needsRehash(h1), false);
  });

  it('verifies the reference implementation’s argon2id string (interoperable encoding)', async () => {
    assert.equal(await verifyPassword('password', REFERENCE_ARGON2ID), true);
    assert.equal(await verifyPassword('passwore', REFERENCE_ARGON2ID), false);
  });

  it('treats canonically equivalent passwords alike (NFC)', async () => {
    const h = await hashPassword('caf\u00e9-password');
    assert.equal(await verifyPassword('cafe\u0301-password', h), true);
  });

  it('still verifies legacy scrypt hashes, and asks for them to be rehashed', async () => {
    assert.equal(await verifyPassword('correct horse battery staple', LEGACY_SCRYPT), true);
    assert.equal(await verifyPassword('correct horse battery stapler', LEGACY_SCRYPT), false);
    assert.equal(needsRehash(LEGACY_SCRYPT), true);
  });

  it('asks for a rehash of argon2id hashes with other parameters', () => {
    assert.equal(needsRehash(REFERENCE_ARGON2ID), true); // m=64 MiB: not ours either
    const weaker = '$argon2id$v=19$m=12288,t=3,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc';
    assert.equal(needsRehash(weaker), true);
    assert.equal(needsRehash('plain'), true);
  });

  it('refuses junk and parameters out of bounds without running them', async () => {
    const salt = 'c29tZXNhbHQ';
    const hash = 'CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc';
    for (const stored of [
      '',
      'plain',
      'scrypt$99999999$8$1$AA$AA',
      `$argon2id$v=16$m=65536,t=2,p=1$${salt}$${hash}`, // version 1.0
      `$argon2i$v=19$m=65536,t=2,p=1$${salt}$${hash}`, // another variant
      `$argon2id$v=19$m=4194304,t=2,p=1$${salt}$${hash}`, // 4 GiB
      `$argon2id$v=19$m=65536,t=1000,p=1$${salt}$${hash}`,
      `$argon2id$v=19$m=65536,t=2,p=0$${salt}$${hash}`,
      `$argon2id$v=19$m=65536,t=2,p=1$$${hash}`,
      `$argon2id$v=19$m=65536,t=2,p=1$${salt}$${hash}=`,
    ]) {
      assert.equal(await verifyPassword('password', stored), false, stored);
    }
  });
});
