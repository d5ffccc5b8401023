/**
 * Forwarding on the MX over real TCP: Python's smtplib sends to the port 25 listener for an alias with a
 * local and a remote target; the local copy is stored, the remote one is queued in the same commit and leaves
 * through the smarthost transport to an smtp-server sink with an SRS0 envelope sender of the alias's domain
 * (RFC 5321 §3.9.1 forwarding; RFC 7208 §11.3: SPF at the next hop then checks our domain, not the author's).
 * Bounces to that SRS address come back through the MX to the original sender; forged ones are refused.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { sealMessage } from 'mailauth';
import { silentLogger } from '../../lib/core/log.ts';
import type { DkimKeyStore, OutboundQueue, QueueEntry } from '../../lib/core/outbound.ts';
import { SrsCodec } from '../../lib/delivery/srs.ts';
import { runnerDeps } from '../../lib/outbound/deliver.ts';
import { currentKeys, dkimRecordName, dkimRecordText, generateKeySet } from '../../lib/outbound/dkimKeys.ts';
import { DkimMessageSigner } from '../../lib/outbound/dkimSigner.ts';
import { runPass } from '../../lib/outbound/runner.ts';
import { SmarthostTransport } from '../../lib/outbound/transports/smarthost.ts';
import { OUTBOUND_FACTORIES } from '../../lib/storage/aws/queueWiring.ts';
import { TEST_TIMEOUTS } from '../support/outbound.ts';
import { verifyWithDkimpy } from '../support/pythonDkim.ts';
import { type Sink, startSink } from '../support/smtpSink.ts';
import { dkimSignTest, type MxTestGateway, simpleMessage, startMxGateway, testDkimKeys } from './smtp-helpers.ts';

const SECRET = 'forwarding test secret 0123456789';
const srs = new SrsCodec({ secret: SECRET });
const run = promisify(execFile);
/** The text of the last reply to DATA's end. */
let lastDataText = '';

/** One SMTP transaction by Python's smtplib: the code of each RCPT and of the end of DATA (0 when not sent). */
const SMTPLIB_DRIVER = `
import json, smtplib, sys
cfg = json.loads(sys.argv[1])
s = smtplib.SMTP('127.0.0.1', cfg['port'], timeout=30)
s.ehlo('client.sender.test')
s.mail(cfg['from'])
rcpts = [s.rcpt(r)[0] for r in cfg['to']]
data = 0
text = ''
if any(c == 250 for c in rcpts):
    try:
        code, msg = s.data(cfg['data'].encode('utf-8'))
    except smtplib.SMTPDataError as e:
        code, msg = e.smtp_code, e.smtp_error
    data, text = code, msg.decode('utf-8', 'replace')
s.quit()
print(json.dumps({'rcpts': rcpts, 'data': data, 'text': text}))
`;

async function smtplib(port: number, from: string, to: string[], data: string) {
  const { stdout } = await run('python3', ['-c', SMTPLIB_DRIVER, JSON.stringify({ port, from, to, data })]);
  const { text, ...codes } = JSON.parse(stdout) as { rcpts: number[]; data: number; text: string };
  lastDataText = text;
  return codes;
}

const tg: MxTestGateway = await startMxGateway({ env: { POSTERN_SRS_SECRET: SECRET } });
let sink: Sink;
let transport: SmarthostTransport;

async function queued(): Promise<QueueEntry[]> {
  const out: QueueEntry[] = [];
  for await (const entry of tg.storage.queue.list()) out.push(entry);
  return out;
}

/** ours.test's DKIM keys (RSA and Ed25519), in an in-memory key store; the DNS records a verifier sees. */
const KEYS = generateKeySet('ours.test', [], Date.now());
const RECORDS = Object.fromEntries(KEYS.map((k) => [dkimRecordName(k), dkimRecordText(k)]));
const keys: DkimKeyStore = {
  signingKeys: async (domain) => currentKeys(KEYS.filter((k) => k.domain === domain)),
  list: async () => [...KEYS],
  add: async () => {},
  removeDomain: async () => {},
};
const signer = new DkimMessageSigner({ keys, logger: silentLogger });

/** One queue pass through the smarthost transport to the sink (the deliver step, in this process, with DSNs). */
function deliverQueued() {
  const { config } = tg;
  const ctx = { endpoints: config.aws.endpoints, dkim: config.dkim, log: silentLogger };
  const reportOutcome = OUTBOUND_FACTORIES.reportOutcome?.(tg.storage, config.outbound, ctx);
  const parts = { config: config.outbound, transport, signer, reportOutcome, log: silentLogger };
  return runPass(runnerDeps(tg.storage, parts));
}

/** ARC verification by Debian's python3-dkim (dkimpy's arc_verify), DNS answered from RECORDS. */
const ARC_VERIFY = `
import dkim, json, sys
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    return records.get(name.decode('ascii'), '').encode('ascii')
message = sys.stdin.buffer.read()
cv, results, comment = dkim.arc_verify(message, dnsfunc=dnsfunc)
print(json.dumps({'cv': cv.decode(), 'comment': comment, 'instances': [r['instance'] for r in results]}))
`;

async function arcVerify(
  message: Buffer,
  records: Record<string, string> = RECORDS,
): Promise<{ cv: string; comment: string; instances: number[] }> {
  const child = execFile('/usr/bin/python3', ['-c', ARC_VERIFY, JSON.stringify(records)]);
  child.stdin?.end(message);
  const out = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (d) => {
      text += d;
    });
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`arc_verify exited ${code}`))));
  });
  return JSON.parse(out);
}

before(async () => {
  await tg.addAccount('bob@ours.test', 'pw-bob-123456');
  await tg.addAccount('dave@local2.test', 'pw-dave-123456');
  const { directory } = tg.storage;
  await directory.addAlias('team@ours.test', ['bob@ours.test', 'carol@remote.test']);
  await directory.addAlias('away@ours.test', ['erin@remote.test']);
  await directory.addAlias('@ours.test', ['bob@ours.test']); // a catch-all must not swallow forged SRS addresses
  sink = await startSink();
  transport = new SmarthostTransport({
    host: '127.0.0.1',
    port: sink.port,
    tls: 'opportunistic',
    heloName: 'mx.test.example',
    timeouts: TEST_TIMEOUTS,
  });
});

after(async () => {
  transport?.close();
  await sink?.close();
});

describe('forwarding an alias with a local and a remote target', () => {
  let srsSender = '';
  const text = simpleMessage({ to: 'team@ours.test', subject: 'to the team' });

  it('stores the local copy and queues the remote one with an SRS0 sender in the same 250', async () => {
    const r = await smtplib(tg.port('smtp'), 'alice@sender.test', ['team@ours.test'], text);
    assert.deepEqual(r, { rcpts: [250], data: 250 });
    assert.equal((await tg.messages('bob@ours.test')).length, 1);
    const entries = await queued();
    assert.equal(entries.length, 1);
    assert.deepEqual(
      entries[0].recipients.map((x) => x.address),
      ['carol@remote.test'],
    );
    srsSender = entries[0].mailFrom;
    assert.match(srsSender, /^SRS0=[A-Z2-7]{6}=[A-Z2-7]{2}=sender\.test=alice@ours\.test$/);
    assert.deepEqual(srs.reverse(srsSender), { ok: true, address: 'alice@sender.test' });
  });

  it('the client retrying the same message doubles neither the local copy nor the queued one', async () => {
    const r = await smtplib(tg.port('smtp'), 'alice@sender.test', ['team@ours.test'], text);
    assert.equal(r.data, 250);
    assert.equal((await tg.messages('bob@ours.test')).length, 1);
    assert.equal((await queued()).length, 1);
  });

  it('the queued copy leaves through the smarthost with the SRS sender and the text unchanged', async () => {
    const pass = await deliverQueued();
    assert.equal(pass.delivered, 1);
    const tx = sink.transactions.at(-1);
    assert.ok(tx);
    assert.equal(tx.mailFrom, srsSender);
    assert.deepEqual(
      tx.rcpts.map((x) => x.address),
      ['carol@remote.test'],
    );
    const sent = tx.data.toString('utf8');
    // our ARC set and DKIM signature (next test), our trace field, then the text as sent
    assert.match(sent, /\r\nReceived: from client\.sender\.test/);
    assert.ok(sent.endsWith(text.slice(text.indexOf('From:'))), 'the forwarded text is the text as received');
  });

  it('the forwarded copy carries our ARC set (RFC 8617), i=1 cv=none, that python3-dkim verifies', async () => {
    const tx = sink.transactions.find((t) => t.rcpts.some((r) => r.address === 'carol@remote.test'));
    assert.ok(tx);
    const sent = tx.data.toString('utf8');
    assert.match(sent, /^ARC-Seal: i=1; a=rsa-sha256; (?:.|\r\n\s)*cv=none/);
    assert.match(sent, /\r\nARC-Authentication-Results: i=1; mx\.test\.example;(?:.|\r\n\s)*spf=pass/);
    assert.match(sent, /\r\nDKIM-Signature: (?:.|\r\n\s)*d=ours\.test/);
    const verdict = await arcVerify(tx.data);
    assert.equal(verdict.cv, 'pass', verdict.comment);
    assert.deepEqual(verdict.instances, [1]);
  });

  it('a bounce to the SRS address goes back to the original remote sender through the queue', async () => {
    const bounce = simpleMessage({
      from: 'MAILER-DAEMON@remote.test',
      to: srsSender,
      subject: 'Undelivered Mail Returned to Sender',
    });
    const r = await smtplib(tg.port('smtp'), '', [srsSender], bounce);
    assert.deepEqual(r, { rcpts: [250], data: 250 });
    await deliverQueued();
    const tx = sink.transactions.at(-1);
    assert.ok(tx);
    assert.equal(tx.mailFrom, ''); // the null sender stays null (RFC 5321 §4.5.5)
    assert.deepEqual(
      tx.rcpts.map((x) => x.address),
      ['alice@sender.test'],
    );
    assert.match(tx.data.toString('utf8'), /Undelivered Mail Returned to Sender/);
  });

  it('a bounce to a case-folded SRS address is accepted too (next hops may fold local parts)', async () => {
    const bounce = simpleMessage({ from: 'MAILER-DAEMON@remote.test', subject: 'folded' });
    const r = await smtplib(tg.port('smtp'), '', [srsSender.toLowerCase()], bounce);
    assert.deepEqual(r, { rcpts: [250], data: 250 });
  });

  it('a bounce to the SRS address of a sender in another domain of ours is stored in that mailbox', async () => {
    const fromLocal = simpleMessage({ from: 'dave@local2.test', to: 'away@ours.test', subject: 'from dave' });
    assert.equal((await smtplib(tg.port('smtp'), 'dave@local2.test', ['away@ours.test'], fromLocal)).data, 250);
    const entry = (await queued()).find((e) => e.recipients.some((x) => x.address === 'erin@remote.test'));
    assert.ok(entry);
    assert.match(entry.mailFrom, /^SRS0=.+=local2\.test=dave@ours\.test$/);
    const bounce = simpleMessage({ from: 'MAILER-DAEMON@remote.test', to: entry.mailFrom, subject: 'bounced back' });
    assert.deepEqual(await smtplib(tg.port('smtp'), '', [entry.mailFrom], bounce), { rcpts: [250], data: 250 });
    const inbox = await tg.messages('dave@local2.test');
    assert.equal(inbox.length, 1);
    assert.match(inbox[0].bytes.toString('utf8'), /Subject: bounced back/);
  });

  it('a forged or expired SRS address is refused 550 5.1.1, catch-all or not', async () => {
    const [, hash] = srsSender.split('=');
    const forged = srsSender.replace(hash, hash === 'AAAAAA' ? 'BBBBBB' : 'AAAAAA');
    const other = new SrsCodec({ secret: 'somebody else entirely', now: () => Date.now() });
    const expired = new SrsCodec({ secret: SECRET, now: () => Date.now() - 30 * 86_400_000 });
    const invalid = [
      forged,
      other.forward('alice@sender.test', 'ours.test'),
      expired.forward('alice@sender.test', 'ours.test'),
      'SRS0=broken@ours.test',
    ];
    const r = await smtplib(tg.port('smtp'), '', invalid, simpleMessage());
    assert.deepEqual(r, { rcpts: [550, 550, 550, 550], data: 0 });
  });

  it('an SRS address of a domain we do not serve is relaying, refused 554 5.7.1', async () => {
    const foreign = srs.forward('alice@sender.test', 'elsewhere.test');
    assert.deepEqual(await smtplib(tg.port('smtp'), '', [foreign], simpleMessage()), { rcpts: [554], data: 0 });
  });
});

describe('forwarding a message that already has an ARC chain and a DKIM signature', () => {
  it('our set continues the chain (i=2, cv=pass) and every DKIM signature still verifies (python3-dkim)', async () => {
    const signed = await dkimSignTest(simpleMessage({ to: 'away@ours.test', subject: 'arc chain' }));
    // sender.test's own relay sealed it first (its key is in the filter's stub DNS and in the verifier's)
    const firstSet = await sealMessage(Buffer.from(signed), {
      signingDomain: 'sender.test',
      selector: 'sel',
      privateKey: testDkimKeys().privateKey,
      authResults: 'relay.sender.test; spf=pass smtp.mailfrom=sender.test',
      cv: 'none',
    });
    const text = firstSet.toString() + signed;
    assert.equal((await smtplib(tg.port('smtp'), 'alice@sender.test', ['away@ours.test'], text)).data, 250);
    await deliverQueued();
    const tx = sink.transactions.find((t) => t.data.includes('Subject: arc chain'));
    assert.ok(tx);
    const sent = tx.data.toString('utf8');
    assert.match(sent, /^ARC-Seal: i=2; a=rsa-sha256; (?:.|\r\n\s)*cv=pass/);
    assert.match(sent, /\r\nARC-Authentication-Results: i=2; mx\.test\.example;(?:.|\r\n\s)*arc=pass/);
    const records = {
      ...RECORDS,
      'sel._domainkey.sender.test.': `v=DKIM1; k=rsa; p=${testDkimKeys().publicKey}`,
    };
    const verdict = await arcVerify(tx.data, records);
    assert.equal(verdict.cv, 'pass', verdict.comment);
    assert.deepEqual([...verdict.instances].sort(), [1, 2]);
    // ours (RSA and Ed25519, d=ours.test) and the author's (d=sender.test): the text reached the next hop intact
    assert.deepEqual(await verifyWithDkimpy(tx.data, records), [true, true, true]);
  });
});

describe('forwarding and spam', () => {
  // quarantine.test publishes SPF -all and DMARC p=quarantine: the filter puts such mail in Junk (score 6)
  const junk = (to: string, subject: string) => simpleMessage({ from: 'mallory@quarantine.test', to, subject });

  it('Junk for an alias with only remote targets is refused 550 5.7.1, not accepted and dropped', async () => {
    const before = (await queued()).length;
    const r = await smtplib(
      tg.port('smtp'),
      'mallory@quarantine.test',
      ['away@ours.test'],
      junk('away@ours.test', 'a'),
    );
    assert.deepEqual(r, { rcpts: [250], data: 550 });
    assert.match(lastDataText, /5\.7\.1 .*not forwarded/);
    assert.equal((await queued()).length, before);
  });

  it('Junk for an alias with a local target goes to Junk there and is not forwarded', async () => {
    const before = (await queued()).length;
    const r = await smtplib(
      tg.port('smtp'),
      'mallory@quarantine.test',
      ['team@ours.test'],
      junk('team@ours.test', 'b'),
    );
    assert.deepEqual(r, { rcpts: [250], data: 250 });
    assert.equal((await tg.messages('bob@ours.test', 'Junk')).length, 1);
    assert.equal((await queued()).length, before);
  });
});

describe('forwarding: re-forwarding, limits, and a queue that fails', () => {
  it('mail from another forwarder (SRS0 sender) is forwarded with SRS1; a bounce to that goes to the first hop', async () => {
    const hop1 = new SrsCodec({ secret: 'the first hop has its own secret' }).forward('zoe@far.test', 'hop1.test');
    const msg = simpleMessage({ from: 'MAILER-DAEMON@remote.test', to: 'away@ours.test', subject: 'via hop1' });
    assert.equal((await smtplib(tg.port('smtp'), hop1, ['away@ours.test'], msg)).data, 250);
    const entry = (await queued()).find((e) => e.mailFrom.startsWith('SRS1='));
    assert.ok(entry);
    assert.match(entry.mailFrom, /^SRS1=[A-Z2-7]{6}=hop1\.test==[A-Z2-7]{6}=[A-Z2-7]{2}=far\.test=zoe@ours\.test$/);
    const bounce = simpleMessage({ from: 'MAILER-DAEMON@remote.test', to: entry.mailFrom, subject: 'srs1 bounce' });
    assert.deepEqual(await smtplib(tg.port('smtp'), '', [entry.mailFrom], bounce), { rcpts: [250], data: 250 });
    const back = (await queued()).find((e) => e.recipients.some((r) => r.address.toLowerCase() === hop1.toLowerCase()));
    assert.ok(back, 'the bounce is queued to the first hop SRS0 address');
    assert.equal(back.domain, 'hop1.test');
  });

  it('when the next hop refuses a forwarded copy, our DSN goes to the original sender, not the SRS address', async () => {
    await tg.storage.directory.addAlias('gone@ours.test', ['hard-gone@remote.test']);
    const msg = simpleMessage({ to: 'gone@ours.test', subject: 'to a refusing hop' });
    assert.equal((await smtplib(tg.port('smtp'), 'alice@sender.test', ['gone@ours.test'], msg)).data, 250);
    const entry = (await queued()).find((e) => e.recipients.some((r) => r.address === 'hard-gone@remote.test'));
    assert.ok(entry);
    assert.match(entry.mailFrom, /^SRS0=/);
    assert.equal(entry.reportTo, 'alice@sender.test');
    await deliverQueued(); // 550 from the sink: failed, and a DSN queued for alice@sender.test
    await deliverQueued(); // the DSN leaves
    const dsn = sink.transactions.find(
      (t) => t.mailFrom === '' && t.data.includes('hard-gone@remote.test') && t.data.includes('delivery-status'),
    );
    assert.ok(dsn, 'a DSN about the forwarded copy left');
    assert.deepEqual(
      dsn.rcpts.map((r) => r.address),
      ['alice@sender.test'],
    );
  });

  it('a message forwards to at most 1000 addresses in all (452 4.5.3 past it), 100 recipients per queue entry', async () => {
    const targets = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}@wide.test`);
    await tg.storage.directory.addAlias('wide1@ours.test', targets(600, 'a'));
    await tg.storage.directory.addAlias('wide2@ours.test', targets(600, 'b'));
    const msg = simpleMessage({ to: 'wide1@ours.test', subject: 'wide' });
    const r = await smtplib(tg.port('smtp'), 'alice@sender.test', ['wide1@ours.test', 'wide2@ours.test'], msg);
    assert.deepEqual(r, { rcpts: [250, 452], data: 250 });
    const wide = (await queued()).filter((e) => e.domain === 'wide.test');
    assert.deepEqual(
      wide.map((e) => e.recipients.length),
      [100, 100, 100, 100, 100, 100],
    );
  });

  it('no 250 until the queue has the remote copy: a failed enqueue answers 451, the retry doubles nothing', async (t) => {
    let failNext = true;
    const real = tg.storage.queue;
    // the real queue, its first enqueue failing (as DynamoDB refusing a transaction would)
    const flaky: OutboundQueue = {
      enqueue: async (entries, key) => {
        if (!failNext) return real.enqueue(entries, key);
        failNext = false;
        throw new Error('DynamoDB unavailable (test)');
      },
      due: (now, limit) => real.due(now, limit),
      claim: (id, owner, until) => real.claim(id, owner, until),
      complete: (id, owner, attempt) => real.complete(id, owner, attempt),
      countPending: () => real.countPending(),
      get: (id) => real.get(id),
      list: () => real.list(),
      retryNow: (id) => real.retryNow(id),
      remove: (id) => real.remove(id),
    };
    const storage = tg.storage;
    const other = await startMxGateway({ env: { POSTERN_SRS_SECRET: SECRET }, storage, queue: flaky });
    t.after(() => other.close());
    const msg = simpleMessage({ to: 'team@ours.test', subject: 'flaky queue' });
    const storedBefore = (await tg.messages('bob@ours.test')).length;
    const since = Date.now();
    const first = await smtplib(other.port('smtp'), 'alice@sender.test', ['team@ours.test'], msg);
    assert.deepEqual(first, { rcpts: [250], data: 451 });
    const second = await smtplib(other.port('smtp'), 'alice@sender.test', ['team@ours.test'], msg);
    assert.deepEqual(second, { rcpts: [250], data: 250 });
    assert.equal((await tg.messages('bob@ours.test')).length, storedBefore + 1, 'one local copy');
    const fresh = (await queued()).filter((e) => e.createdAt >= since);
    assert.deepEqual(
      fresh.map((e) => e.recipients.map((r) => r.address)),
      [['carol@remote.test']],
      'one queued copy',
    );
  });
});
