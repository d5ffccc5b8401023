import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  currentKeys,
  dkimRecordName,
  dkimRecordText,
  generateDkimKey,
  generateKeySet,
  newSelector,
  txtStrings,
} from '../../lib/outbound/dkimKeys.ts';

const DEC_2026 = Date.UTC(2026, 11, 2, 13, 0);

/** The strings of zone-file TXT data, unquoted. */
const strings = (data: string) => [...data.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, '$1'));

describe('DKIM keys', () => {
  it('names selectors p<yyyymm>r / p<yyyymm>e, then with a two-digit suffix, unique and sortable', () => {
    const taken = new Set<string>();
    const made: string[] = [];
    for (let i = 0; i < 12; i++) {
      const name = newSelector('rsa-sha256', DEC_2026, taken);
      taken.add(name);
      made.push(name);
    }
    assert.equal(made[0], 'p202612r');
    assert.equal(made[1], 'p202612r02');
    assert.equal(made[11], 'p202612r12');
    assert.deepEqual([...made].sort(), made, 'creation order is name order');
    assert.equal(newSelector('ed25519-sha256', DEC_2026, taken), 'p202612e');
    assert.equal(newSelector('rsa-sha256', Date.UTC(2027, 0, 1), taken), 'p202701r');
    // RFC 6376 §3.1: a selector is a dot-atom of sub-domain labels.
    for (const name of made) assert.match(name, /^[a-z0-9]+$/);
  });

  it('makes an RSA 2048 key whose p= is the base64 SubjectPublicKeyInfo (RFC 6376 §3.6.1)', () => {
    const key = generateDkimKey('example.org', 'rsa-sha256', 'p202612r', DEC_2026);
    const pub = createPublicKey({ key: Buffer.from(key.publicKey, 'base64'), format: 'der', type: 'spki' });
    assert.equal(pub.asymmetricKeyType, 'rsa');
    assert.equal(pub.asymmetricKeyDetails?.modulusLength, 2048);
    const priv = createPrivateKey(key.privateKeyPem);
    assert.match(key.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
    const data = Buffer.from('signed');
    assert.ok(verify('sha256', data, pub, sign('sha256', data, priv)), 'p= is the public half of the private key');
  });

  it('makes an Ed25519 key whose p= is the raw 32-octet public key (RFC 8463 §4.2)', () => {
    const key = generateDkimKey('example.org', 'ed25519-sha256', 'p202612e', DEC_2026);
    const raw = Buffer.from(key.publicKey, 'base64');
    assert.equal(raw.length, 32);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
    const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const data = Buffer.from('signed');
    assert.ok(verify(null, data, pub, sign(null, data, createPrivateKey(key.privateKeyPem))));
  });

  it('a key set holds one key of each algorithm with fresh selectors; the newest of each signs', () => {
    const first = generateKeySet('example.org', [], DEC_2026);
    assert.deepEqual(
      first.map((k) => [k.selector, k.algorithm]),
      [
        ['p202612r', 'rsa-sha256'],
        ['p202612e', 'ed25519-sha256'],
      ],
    );
    const second = generateKeySet('example.org', first, DEC_2026 + 1000);
    assert.deepEqual(
      second.map((k) => k.selector),
      ['p202612r02', 'p202612e02'],
    );
    assert.deepEqual(
      currentKeys([...first, ...second]).map((k) => k.selector),
      ['p202612r02', 'p202612e02'],
    );
  });

  it('TXT data: v=DKIM1 with k=, split into quoted strings of at most 255 octets (RFC 6376 §3.6.2.2)', () => {
    const [rsa, ed] = generateKeySet('example.org', [], DEC_2026);
    assert.equal(dkimRecordName(rsa), 'p202612r._domainkey.example.org.');
    const text = dkimRecordText(rsa);
    assert.match(text, /^v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/=]+$/);
    const parts = strings(txtStrings(text));
    assert.ok(parts.length >= 2, 'a 2048-bit key does not fit one string');
    for (const p of parts) assert.ok(p.length <= 255);
    assert.equal(parts.join(''), text);
    assert.equal(txtStrings(dkimRecordText(ed)), `"v=DKIM1; k=ed25519; p=${ed.publicKey}"`);
    assert.equal(txtStrings('a "quoted" \\ text'), '"a \\"quoted\\" \\\\ text"');
  });
});
