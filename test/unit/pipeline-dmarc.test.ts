/**
 * DMARC as the author domain published it (RFC 9989), through the filter with a stub resolver: alignment
 * modes, the subdomain policies found by the DNS Tree Walk, testing mode and the legacy pct tag.
 *
 * Unless a test says otherwise the envelope is bounce@relay.test from relay.test's SPF address, so SPF passes
 * but is not aligned with the From domain, and nothing is DKIM-signed: DMARC fails, while the spam score
 * (DMARC_FAIL alone, 3) stays below the Junk threshold, so a Junk or a refusal is the DMARC policy's doing.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import type { FilterRequest, FilterResult } from '../../lib/pipeline/contracts.ts';
import { type DnsRecords, stubResolver } from '../../lib/pipeline/dns.ts';
import { filter } from '../../lib/pipeline/filter.ts';
import { DefaultScorer, EicarScanner } from '../../lib/pipeline/verdict.ts';
import { simpleMessage, testDkimKeys } from '../protocol/smtp-helpers.ts';
import { freshStorage } from '../support/storage.ts';

const storage = await freshStorage();
const RELAY = { mailFrom: 'bounce@relay.test', clientIp: '192.0.2.30' };
const SUB_SENDER = { mailFrom: 'bounce@sub.example.org', clientIp: '192.0.2.20' };

/** example.org and sub.example.org with SPF and DKIM keys; `dmarc` is published at _dmarc.example.org. */
function zone(dmarc: string, extra: DnsRecords = {}): DnsRecords {
  const key = testDkimKeys().publicKey;
  const dkim = { TXT: [[`v=DKIM1; k=rsa; p=${key.slice(0, 200)}`, key.slice(200)]] };
  return {
    'example.org': { TXT: ['v=spf1 ip4:192.0.2.10 -all'], A: ['192.0.2.10'] },
    'sub.example.org': { TXT: ['v=spf1 ip4:192.0.2.20 -all'], A: ['192.0.2.20'] },
    'relay.test': { TXT: ['v=spf1 ip4:192.0.2.30 -all'] },
    'sel._domainkey.example.org': dkim,
    'sel._domainkey.sub.example.org': dkim,
    '_dmarc.example.org': { TXT: [dmarc] },
    ...extra,
  };
}

/** The message DKIM-signed by `domain` (selector sel). */
async function signedBy(domain: string, message: string): Promise<string> {
  const key = { signingDomain: domain, selector: 'sel', privateKey: testDkimKeys().privateKey };
  // the runtime reads signatureData (as the README says); the bundled d.ts describes the flat form
  const res = await dkimSign(message, { canonicalization: 'relaxed/relaxed', ...key, signatureData: [key] } as never);
  if (res.errors.length) throw res.errors[0];
  return res.signatures + message;
}

let n = 0;

interface Case {
  readonly dmarc: string;
  readonly from?: string;
  readonly signer?: string;
  readonly envelope?: { mailFrom: string; clientIp: string };
  readonly dns?: DnsRecords;
}

async function check(c: Case): Promise<FilterResult> {
  const message = simpleMessage({ from: c.from ?? 'alice@example.org' });
  const text = c.signer ? await signedBy(c.signer, message) : message;
  const blobKey = `messages/dmarc-${++n}`;
  const { size } = await storage.blobs.put(blobKey, Buffer.from(text));
  const req: FilterRequest = {
    messageId: `m${n}`,
    blobKey,
    blobSize: size,
    helo: 'client.example',
    recipients: ['bob@ours.test'],
    authservId: 'mx.test.example',
    ...(c.envelope ?? RELAY),
  };
  const deps = {
    blobs: storage.blobs,
    resolver: stubResolver(zone(c.dmarc, c.dns)),
    scorer: new DefaultScorer(),
    scanner: new EicarScanner(),
  };
  return filter(deps, req);
}

function assertRefused(res: FilterResult, domain = 'example.org') {
  assert.equal(res.action, 'reject');
  assert.deepEqual({ code: res.reply?.code, enhanced: res.reply?.enhanced }, { code: 550, enhanced: '5.7.1' });
  assert.match(res.reply?.text ?? '', new RegExp(`DMARC policy of ${domain.replace(/\./g, '\\.')} says reject`));
}

function assertDelivered(res: FilterResult, mailbox: 'INBOX' | 'Junk') {
  assert.equal(res.action, 'deliver');
  assert.equal(res.mailbox, mailbox);
  assert.ok(res.spam.score < res.spam.threshold, `spam score ${res.spam.score} would decide the mailbox itself`);
}

describe('DMARC policy through the filter (RFC 9989)', () => {
  test('p=reject fail is refused (550 5.7.1), p=quarantine fail goes to Junk, p=none fail is delivered', async () => {
    const reject = await check({ dmarc: 'v=DMARC1; p=reject' });
    assertRefused(reject);
    assert.equal(reject.dmarc?.result, 'fail');
    assertDelivered(await check({ dmarc: 'v=DMARC1; p=quarantine' }), 'Junk');
    const none = await check({ dmarc: 'v=DMARC1; p=none' });
    assertDelivered(none, 'INBOX');
    assert.deepEqual(none.dmarc, { result: 'fail', policy: 'none', domain: 'example.org' });
  });

  // mailauth 4.13 compared strict alignment as relaxed (its 5.0.0 changelog: "adkim=s and aspf=s now actually
  // fail when only the organizational domains match"), so the adkim=s and aspf=s messages here passed DMARC
  // and were delivered; RFC 9989 §4.7: strict alignment means identical domains.
  test('DKIM alignment: d=sub.example.org for From example.org passes relaxed, fails adkim=s', async () => {
    const relaxed = await check({ dmarc: 'v=DMARC1; p=reject', signer: 'sub.example.org' });
    assertDelivered(relaxed, 'INBOX');
    assert.equal(relaxed.dmarc?.result, 'pass');
    assert.match(relaxed.headers, /dkim=pass header\.i=@sub\.example\.org/);
    const strict = await check({ dmarc: 'v=DMARC1; p=reject; adkim=s', signer: 'sub.example.org' });
    assertRefused(strict);
    assert.match(strict.headers, /dkim=pass header\.i=@sub\.example\.org/);
    assert.match(strict.headers, /dmarc=fail/);
    // the same mode with identical domains passes
    assertDelivered(await check({ dmarc: 'v=DMARC1; p=reject; adkim=s', signer: 'example.org' }), 'INBOX');
  });

  test('SPF alignment: MAIL FROM sub.example.org for From example.org passes relaxed, fails aspf=s', async () => {
    const relaxed = await check({ dmarc: 'v=DMARC1; p=reject', envelope: SUB_SENDER });
    assertDelivered(relaxed, 'INBOX');
    assert.match(relaxed.headers, /spf=pass/);
    assert.equal(relaxed.dmarc?.result, 'pass');
    const strict = await check({ dmarc: 'v=DMARC1; p=reject; aspf=s', envelope: SUB_SENDER });
    assertRefused(strict);
    assert.match(strict.headers, /spf=pass/);
  });

  test('a subdomain gets sp= of the record the Tree Walk finds at its Organizational Domain (§4.10.1)', async () => {
    const from = 'alice@sub.example.org';
    const refused = await check({ dmarc: 'v=DMARC1; p=none; sp=reject', from });
    assertRefused(refused);
    assert.equal(refused.dmarc?.domain, 'example.org');
    assert.match(refused.headers, /header\.from=sub\.example\.org/);
    const lenient = await check({ dmarc: 'v=DMARC1; p=reject; sp=none', from });
    assertDelivered(lenient, 'INBOX');
    assert.equal(lenient.dmarc?.policy, 'none');
    // sp= is not for the Organizational Domain itself
    assertDelivered(await check({ dmarc: 'v=DMARC1; p=none; sp=reject' }), 'INBOX');
    // a record at the subdomain itself applies, p= and all
    const own = { '_dmarc.sub.example.org': { TXT: ['v=DMARC1; p=none'] } };
    assertDelivered(await check({ dmarc: 'v=DMARC1; p=reject; sp=reject', from, dns: own }), 'INBOX');
  });

  test('np= applies to a subdomain that does not exist, sp= to one that does (§4.10.1)', async () => {
    const dmarc = 'v=DMARC1; p=none; sp=none; np=reject';
    const ghost = await check({ dmarc, from: 'alice@ghost.example.org' });
    assertRefused(ghost);
    assert.equal(ghost.dmarc?.policy, 'reject');
    assertDelivered(await check({ dmarc, from: 'alice@sub.example.org' }), 'INBOX');
  });

  test('t=y (testing) applies the next lower policy: reject to quarantine, quarantine to none (§4.7)', async () => {
    const reject = await check({ dmarc: 'v=DMARC1; p=reject; t=y' });
    assertDelivered(reject, 'Junk');
    assert.equal(reject.dmarc?.policy, 'quarantine');
    const quarantine = await check({ dmarc: 'v=DMARC1; p=quarantine; t=y' });
    assertDelivered(quarantine, 'INBOX');
    assert.equal(quarantine.dmarc?.policy, 'none');
    // and for a subdomain's sp= too
    assertDelivered(await check({ dmarc: 'v=DMARC1; p=none; sp=reject; t=y', from: 'a@sub.example.org' }), 'Junk');
  });

  test('legacy pct below 100 reads as t=y (Appendix A.6: t=y and t=n are pct=0 and pct=100); t= wins', async () => {
    const zero = await check({ dmarc: 'v=DMARC1; p=reject; pct=0' });
    assertDelivered(zero, 'Junk');
    assert.match(zero.headers, /dmarc=fail .*policy\.dmarc=quarantine/);
    assertDelivered(await check({ dmarc: 'v=DMARC1; p=reject; pct=50' }), 'Junk');
    assertDelivered(await check({ dmarc: 'v=DMARC1; p=quarantine; pct=0' }), 'INBOX');
    assertRefused(await check({ dmarc: 'v=DMARC1; p=reject; pct=100' }));
    assertRefused(await check({ dmarc: 'v=DMARC1; p=reject; pct=0; t=n' }));
    // testing once, not twice
    assertDelivered(await check({ dmarc: 'v=DMARC1; p=reject; pct=0; t=y' }), 'Junk');
    // a pct that is not a percentage is ignored (the default, 100)
    assertRefused(await check({ dmarc: 'v=DMARC1; p=reject; pct=abc' }));
  });

  test('a pass is delivered whatever the policy; no record at all is DMARC none', async () => {
    const pass = await check({ dmarc: 'v=DMARC1; p=reject; adkim=s; aspf=s', signer: 'example.org' });
    assertDelivered(pass, 'INBOX');
    assert.match(pass.headers, /dmarc=pass/);
    const none = await check({ dmarc: 'not a DMARC record' });
    assert.equal(none.dmarc?.result, 'none');
    assert.equal(none.action, 'deliver');
  });
});
