/**
 * IMAP against clients nobody here wrote: Python's imaplib (plain, STARTTLS, implicit TLS) and imapflow,
 * over real TCP to a whole in-process gateway, with messages appended through the storage layer as
 * delivery does (header prefix + blob, the per-copy summary). Login, LIST, SELECT, byte-exact FETCH,
 * flags, SEARCH and EXPUNGE; an APPEND whose answer imaplib never read, retried (issue #8: no second copy).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Account } from '../../lib/core/ports.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { bytes, type Delivered, data, deliverTo, imapflow, imaplib, type Py, typ } from './imap-support.ts';
import { makeMessage, run } from './pop3-support.ts';

/** imapflow answers `false` for nothing. */
const got = <T>(v: T | false): T | undefined => v || undefined;

// IDLE polls often here: this gateway's store has no notifier, so the poll is what wakes a session.
const tg: TestGateway = await startTestGateway({ env: { POSTERN_IMAP_IDLE_POLL_MS: '100' } });

let seq = 0;
async function newAccount(): Promise<{ account: Account; user: string; pass: string }> {
  const user = `imap${++seq}-${randomBytes(3).toString('hex')}@example.com`;
  const pass = `pw ${randomBytes(4).toString('hex')}`;
  return { account: await tg.addAccount(user, pass), user, pass };
}

const MESSAGES = [
  Buffer.from('From: a@example.org\r\nSubject: dots\r\n\r\n.\r\n..\r\n.leading\r\nnormal\r\n'),
  Buffer.from(
    'Subject: no final line end\r\nContent-Type: text/plain; charset=latin1\r\n\r\n8-bit \xe9\xff end',
    'latin1',
  ),
  makeMessage('big one', 300_000),
];

async function deliverSet(accountId: string): Promise<Delivered[]> {
  const out: Delivered[] = [];
  out.push(await deliverTo(tg.storage, accountId, MESSAGES[0], { headerPrefix: 'Return-Path: <a@example.org>\r\n' }));
  out.push(await deliverTo(tg.storage, accountId, MESSAGES[1]));
  out.push(await deliverTo(tg.storage, accountId, MESSAGES[2]));
  return out;
}

describe('IMAP with Python imaplib', () => {
  for (const mode of ['plain', 'starttls', 'ssl'] as const) {
    it(`${mode}: login, list, select, FETCH BODY.PEEK[] byte-exact, STORE, SEARCH, EXPUNGE (RFC 9051 §6.4)`, async () => {
      const { account, user, pass } = await newAccount();
      const delivered = await deliverSet(account.accountId);
      const port = tg.port(mode === 'ssl' ? 'imaps' : 'imap');
      const r = await imaplib({
        mode,
        port,
        steps: [
          ['login', user, pass],
          ['list'],
          ['select', 'INBOX'],
          ...delivered.map((_, i) => ['fetch', String(i + 1), '(BODY.PEEK[] RFC822.SIZE)']),
          ['store', '1', '+FLAGS', '(\\Deleted)'],
          ['search', null, 'DELETED'],
          ['expunge'],
          ['uid', 'FETCH', '1:*', '(FLAGS)'],
          ['logout'],
        ],
      });
      assert.equal(r.exception, undefined);
      assert.ok(r.capabilities.includes('IMAP4REV1'));
      const [login, list, select, ...rest] = r.steps;
      assert.equal(typ(login), 'OK');
      assert.equal(typ(list), 'OK');
      const names = data(list).map((l) => bytes(l).toString());
      assert.ok(
        names.some((n) => n.endsWith('"/" INBOX')),
        names.join('\n'),
      );
      assert.ok(
        names.some((n) => /\\Sent\) "\/" Sent$/.test(n)),
        names.join('\n'),
      );
      assert.deepEqual(select, ['OK', [{ b64: Buffer.from('3').toString('base64') }]]);
      delivered.forEach((d, i) => {
        const fetched = data(rest[i]);
        const [head, body] = fetched[0] as Py[];
        assert.match(bytes(head).toString(), new RegExp(`^${i + 1} \\(BODY\\[\\] \\{${d.bytes.length}\\}`));
        assert.deepEqual(bytes(body), d.bytes);
        assert.match(bytes(fetched[1]).toString(), new RegExp(`RFC822.SIZE ${d.bytes.length}\\)`));
      });
      const [store, search, expunge, uidFetch, logout] = rest.slice(delivered.length);
      assert.equal(typ(store), 'OK');
      assert.equal(bytes(data(search)[0]).toString(), '1');
      assert.deepEqual(
        data(expunge).map((v) => bytes(v).toString()),
        ['1'],
      );
      assert.deepEqual(
        data(uidFetch).map((v) => bytes(v).toString()),
        [`1 (UID ${delivered[1].uid} FLAGS ())`, `2 (UID ${delivered[2].uid} FLAGS ())`],
      );
      assert.equal(typ(logout), 'BYE');
    });
  }
});

describe('IMAP with imapflow', () => {
  it('logs in over STARTTLS, lists, fetches byte-exact sources, sets flags and deletes (RFC 9051 §6.4)', async () => {
    const { account, user, pass } = await newAccount();
    const delivered = await deliverSet(account.accountId);
    const client = imapflow(tg.port('imap'), { user, pass }, 'starttls');
    await client.connect();
    try {
      const boxes = await client.list();
      const byUse = new Map(boxes.map((b) => [b.specialUse ?? b.path, b.path] as const));
      assert.equal(byUse.get('\\Inbox'), 'INBOX');
      assert.equal(byUse.get('\\Sent'), 'Sent');
      assert.equal(byUse.get('\\Trash'), 'Trash');
      const lock = await client.getMailboxLock('INBOX');
      try {
        assert.equal((client.mailbox as { exists: number }).exists, 3);
        const seen: Buffer[] = [];
        for await (const msg of client.fetch('1:*', { uid: true, source: true, envelope: true, flags: true })) {
          seen.push(msg.source as Buffer);
        }
        assert.deepEqual(
          seen,
          delivered.map((d) => d.bytes),
        );
        const one = (await client.fetchOne('1', { envelope: true, bodyStructure: true })) || undefined;
        assert.equal(one?.envelope?.subject, 'dots');
        assert.equal(one?.bodyStructure?.type, 'text/plain');
        assert.equal(await client.messageFlagsAdd({ uid: `${delivered[0].uid}` }, ['\\Seen'], { uid: true }), true);
        const flagged = (await client.fetchOne('1', { flags: true })) || undefined;
        assert.ok(flagged?.flags?.has('\\Seen'));
        const unseen = await client.search({ seen: false }, { uid: true });
        assert.deepEqual(unseen, [delivered[1].uid, delivered[2].uid]);
        assert.equal(await client.messageDelete({ uid: `${delivered[1].uid}` }, { uid: true }), true);
        const left = await client.search({ all: true }, { uid: true });
        assert.deepEqual(left, [delivered[0].uid, delivered[2].uid]);
      } finally {
        lock.release();
      }
      const status = await client.status('INBOX', { messages: true, unseen: true });
      assert.deepEqual(status && { messages: status.messages, unseen: status.unseen }, { messages: 2, unseen: 1 });
    } finally {
      await client.logout();
    }
  });

  it('APPENDs to Drafts, copies and moves to Trash, and hears a delivery in IDLE (RFC 4315, RFC 6851, RFC 2177)', async () => {
    const { account, user, pass } = await newAccount();
    const client = imapflow(tg.port('imaps'), { user, pass }, 'tls');
    await client.connect();
    try {
      const draft = Buffer.from('From: me@example.com\r\nSubject: draft\r\n\r\nnot yet\r\n');
      const appended = await client.append('Drafts', draft, ['\\Draft']);
      assert.equal(got(appended)?.uid, 1);
      const lock = await client.getMailboxLock('Drafts');
      try {
        const msg = await client.fetchOne('1', { source: true, flags: true });
        assert.deepEqual(got(msg)?.source, draft);
        const copied = await client.messageCopy('1', 'Archive');
        assert.equal(got(copied)?.uidMap?.get(1), 1);
        const moved = await client.messageMove('1', 'Trash');
        assert.equal(got(moved)?.uidMap?.get(1), 1);
        assert.equal((client.mailbox as { exists: number }).exists, 0);
      } finally {
        lock.release();
      }
      const inbox = await client.getMailboxLock('INBOX');
      try {
        const exists = new Promise<number>((resolve) =>
          client.once('exists', (e: { count: number }) => resolve(e.count)),
        );
        const idling = client.idle();
        await deliverTo(tg.storage, account.accountId, Buffer.from('Subject: new\r\n\r\nnews\r\n'));
        assert.equal(await exists, 1);
        await client.noop();
        await idling;
      } finally {
        inbox.release();
      }
      const trash = await client.status('Trash', { messages: true });
      assert.equal(got(trash)?.messages, 1);
    } finally {
      await client.logout();
    }
  });
});

/**
 * imaplib sends an APPEND and drops the connection before it reads the answer, then does what a client that
 * cannot tell does: logs in again and APPENDs the same message. Then two APPENDs of it on one connection.
 */
const RETRY_DRIVER = `
import sys, json, imaplib, time
cfg = json.loads(sys.argv[1])
msg = cfg['message'].encode()
def login():
    c = imaplib.IMAP4('127.0.0.1', cfg['port'], timeout=30)
    c.login(cfg['user'], cfg['pass'])
    return c
def count(c):
    return int(c.status('INBOX', '(MESSAGES)')[1][0].split(b'MESSAGES ')[1].rstrip(b')'))
out = {}
lost = login()
lost.send(b'x1 APPEND INBOX (\\\\Seen) {%d}\\r\\n' % len(msg))
out['continuation'] = lost.readline().decode()
lost.send(msg + b'\\r\\n')
lost.shutdown()
c = login()
for _ in range(100):
    if count(c) == 1: break
    time.sleep(0.05)
out['retry'] = c.append('INBOX', '(\\\\Seen)', None, msg)[1][0].decode()
out['afterRetry'] = count(c)
out['again'] = [c.append('INBOX', None, None, msg)[1][0].decode() for _ in range(2)]
out['afterAgain'] = count(c)
c.logout()
print(json.dumps(out))
`;

describe('IMAP APPEND retried by Python imaplib after a lost answer (issue #8)', () => {
  it('the retry answers the first APPENDUID and stores nothing; deliberate APPENDs store copies (RFC 4315 §3)', async () => {
    const { user, pass } = await newAccount();
    const message = 'From: a@example.org\r\nSubject: sent once\r\nMessage-ID: <once@example.org>\r\n\r\nhello\r\n';
    const cfg = { port: tg.port('imap'), user, pass, message };
    const r = await run('python3', ['-c', RETRY_DRIVER, JSON.stringify(cfg)]);
    assert.equal(r.code, 0, r.stderr.toString());
    const out = JSON.parse(r.stdout.toString());
    assert.match(out.continuation, /^\+ /);
    assert.match(out.retry, /^\[APPENDUID \d+ 1\] /);
    assert.equal(out.afterRetry, 1);
    assert.match(out.again[0], /^\[APPENDUID \d+ 2\] /);
    assert.match(out.again[1], /^\[APPENDUID \d+ 3\] /);
    assert.equal(out.afterAgain, 3);
  });
});
