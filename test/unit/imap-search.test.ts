/**
 * IMAP SEARCH over a real loopback socket with real storage (DynamoDB Local, the S3 stand-in): BODY and
 * TEXT over decoded bodies (RFC 9051 §6.4.4), CHARSET, ESEARCH (RFC 4731), SEARCHRES `$` and SAVE (RFC
 * 5182), ESEARCH under IMAP4rev2, and imapflow reading ESEARCH. Exact responses.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { AuthResult } from '../../lib/auth/authenticator.ts';
import { silentLogger } from '../../lib/core/log.ts';
import type { Account, Storage } from '../../lib/core/ports.ts';
import { createImapBackend, type ImapBackend } from '../../lib/imap/backend.ts';
import { MAX_SEARCH_OCTETS } from '../../lib/imap/searchText.ts';
import { ImapSession } from '../../lib/imap/session.ts';
import { type Delivered, deliverTo, ImapClient, imapflow } from '../protocol/imap-support.ts';
import { testTls } from '../support/gateway.ts';
import { freshStorage } from '../support/storage.ts';

const storage: Storage = await freshStorage();
await storage.directory.addDomain('example.com');
const account: Account = await storage.directory.addAccount({ address: 'alice@example.com', passwordHash: 'x' });
await storage.mail.ensureDefaultMailboxes(account.accountId);

const servers: Server[] = [];
const clients: ImapClient[] = [];
after(() => {
  for (const c of clients) c.destroy();
  for (const s of servers) s.close();
});

interface Served {
  readonly port: number;
  /** The UIDs whose octets were read (ranged reads of the blob store) since the last call. */
  readonly reads: () => number[];
}

/** The stream cut into pieces of `size` octets: every decoder and the matcher then work across chunk ends. */
async function* rechunk(source: Readable, size: number): AsyncGenerator<Buffer> {
  for await (const c of source) for (let i = 0; i < c.length; i += size) yield (c as Buffer).subarray(i, i + size);
}

/**
 * A server over the real backend; it records which messages' octets are read, can deliver them in small
 * chunks, and can switch on IMAP4rev2 for each session.
 */
async function serve(opts: { rev2?: boolean; chunk?: number } = {}): Promise<Served> {
  const authenticator = {
    async authenticate({ username, password }: { username: string; password: string }): Promise<AuthResult> {
      return username === 'alice@example.com' && password === 'secret'
        ? { ok: true, account }
        : { ok: false, reason: 'invalid' };
    },
  };
  const real = createImapBackend(storage.mail, storage.blobs, authenticator);
  let read = new Set<number>();
  const backend: ImapBackend = {
    ...real,
    openMessage: async (meta, range) => {
      read.add(meta.uid);
      const stream = await real.openMessage(meta, range);
      return opts.chunk ? Readable.from(rechunk(stream, opts.chunk)) : stream;
    },
  };
  const reads = () => {
    const uids = [...read].sort((a, b) => a - b);
    read = new Set();
    return uids;
  };
  const tls = await testTls();
  const server = createServer((socket) => {
    const session = new ImapSession(
      { socket, cid: 's', remotePort: 40000, remoteAddress: '127.0.0.1', secure: false, log: silentLogger },
      backend,
      { hostname: 'imap.test', allowPlaintextAuth: true, idleTimeoutMs: 60_000, maxErrors: 50, tls },
    );
    // what ENABLE IMAP4rev2 sets (RFC 9051 §2.3): set here so the SEARCH switch is tested on its own
    if (opts.rev2) session.imap4rev2 = true;
    void session.run();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, reads };
}

async function open(port: number, mailbox: string): Promise<ImapClient> {
  const c = await ImapClient.connect(port);
  clients.push(c);
  assert.match(await c.line(), /^\* OK /);
  assert.match((await c.cmd('LOGIN alice@example.com secret')).status, /^a\d+ OK /);
  assert.match((await c.cmd(`SELECT ${mailbox}`)).status, /^a\d+ OK /);
  return c;
}

/** A non-synchronising literal (LITERAL-) of the string's UTF-8 octets. */
const literal = (s: string): string => `{${Buffer.byteLength(s)}+}\r\n${s}`;

const base64Lines = (text: string, charset = 'utf-8'): string =>
  (
    Buffer.from(text, charset === 'utf-8' ? 'utf8' : 'latin1')
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');

const PLAIN =
  'From: bob@example.org\r\nSubject: plain one\r\nX-Tracker: Alpha-7\r\n\r\nThe quick brown fox jumps\r\nover the lazy dog\r\n';
/** base64 UTF-8: "ZEBRA crossing" (octets 51 to 64) lands across the first base64 line break (57 octets a line). */
const BASE64 =
  'Subject: two\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
  `${base64Lines(`${'x'.repeat(50)} ZEBRA crossing, Grüße aus Köln\r\n`)}\r\n`;
/** quoted-printable Latin-1 HTML with a soft line break inside a word. */
const QP =
  'Subject: three\r\nX-Tracker: beta\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=iso-8859-1\r\n' +
  'Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>caf=E9 au lait, soft=\r\nbreak</p>\r\n';
/** multipart: a text part, a base64 attachment (not searched) and a message/rfc822 inside. */
const MULTIPART =
  'Subject: four\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b1\r\n\r\n' +
  '--b1\r\nContent-Type: text/plain\r\n\r\nintro text\r\n' +
  '--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
  `${Buffer.from('secretword inside a binary').toString('base64')}\r\n` +
  '--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner tango\r\nX-Tracker: inner\r\n\r\nnested body words\r\n' +
  '--b1--\r\n';
/** the word only in an RFC 2047 encoded subject: TEXT finds it, BODY does not. */
const HEADER_ONLY = `Subject: =?UTF-8?B?${Buffer.from('Überraschung').toString('base64')}?=\r\n\r\nnothing here\r\n`;

/** The five test messages in a new mailbox (1 and 3 \Flagged when `flagged`). */
async function deliverAll(mailbox: string, flagged = false): Promise<Delivered[]> {
  await storage.mail.createMailbox(account.accountId, mailbox);
  const out: Delivered[] = [];
  for (const [i, m] of [PLAIN, BASE64, QP, MULTIPART, HEADER_ONLY].entries()) {
    const flags = flagged && (i === 0 || i === 2) ? ['\\Flagged'] : [];
    out.push(await deliverTo(storage, account.accountId, Buffer.from(m, 'utf8'), { mailbox, flags }));
  }
  return out;
}

for (const chunk of [undefined, 7]) {
  describe(`IMAP SEARCH BODY and TEXT (RFC 9051 §6.4.4)${chunk ? `, bodies read ${chunk} octets at a time` : ''}`, () => {
    let port: number;
    let reads: () => number[];
    let d: Delivered[];
    const box = `Text${chunk ?? ''}`;
    before(async () => {
      d = await deliverAll(box);
      ({ port, reads } = await serve({ chunk }));
    });

    it('matches decoded text case-insensitively: 7bit, base64 across a line break, quoted-printable soft breaks', async () => {
      const c = await open(port, box);
      assert.deepEqual((await c.cmd('SEARCH BODY FOX')).untagged, ['* SEARCH 1']);
      assert.deepEqual((await c.cmd('SEARCH BODY "zebra crossing"')).untagged, ['* SEARCH 2']);
      assert.deepEqual((await c.cmd('SEARCH BODY softbreak')).untagged, ['* SEARCH 3']);
      assert.deepEqual((await c.cmd('UID SEARCH BODY lait')).untagged, [`* SEARCH ${d[2].uid}`]);
      assert.deepEqual((await c.cmd('SEARCH BODY "no such words"')).untagged, ['* SEARCH']);
      // a string spanning two lines of the text is not a substring of it
      assert.deepEqual((await c.cmd('SEARCH BODY "jumps over"')).untagged, ['* SEARCH']);
    });

    it('a UTF-8 literal matches base64 UTF-8 and quoted-printable Latin-1 text (charsets decoded)', async () => {
      const c = await open(port, box);
      assert.deepEqual((await c.cmd(`SEARCH CHARSET UTF-8 BODY ${literal('KÖLN')}`)).untagged, ['* SEARCH 2']);
      assert.deepEqual((await c.cmd(`SEARCH BODY ${literal('grüße')}`)).untagged, ['* SEARCH 2']);
      assert.deepEqual((await c.cmd(`SEARCH CHARSET utf-8 BODY ${literal('café au')}`)).untagged, ['* SEARCH 3']);
    });

    it('multipart: text parts and an inner message are searched, a non-text attachment is not', async () => {
      const c = await open(port, box);
      assert.deepEqual((await c.cmd('SEARCH BODY intro')).untagged, ['* SEARCH 4']);
      assert.deepEqual((await c.cmd('SEARCH BODY "nested body"')).untagged, ['* SEARCH 4']);
      // the inner message's header is part of the outer body
      assert.deepEqual((await c.cmd('SEARCH BODY tango')).untagged, ['* SEARCH 4']);
      assert.deepEqual((await c.cmd('SEARCH BODY secretword')).untagged, ['* SEARCH']);
    });

    it('TEXT also matches the header, with encoded words decoded; BODY does not look there', async () => {
      const c = await open(port, box);
      assert.deepEqual((await c.cmd(`SEARCH TEXT ${literal('überraschung')}`)).untagged, ['* SEARCH 5']);
      assert.deepEqual((await c.cmd(`SEARCH BODY ${literal('überraschung')}`)).untagged, ['* SEARCH']);
      assert.deepEqual((await c.cmd('SEARCH TEXT "plain one"')).untagged, ['* SEARCH 1']);
      assert.deepEqual((await c.cmd('SEARCH TEXT fox')).untagged, ['* SEARCH 1']);
      assert.deepEqual((await c.cmd('SEARCH BODY "plain one"')).untagged, ['* SEARCH']);
      assert.deepEqual((await c.cmd('SEARCH BODY ""')).untagged, ['* SEARCH 1 2 3 4 5']);
    });

    it('HEADER with a field the summary does not keep reads the top-level header (RFC 9051 §6.4.4)', async () => {
      const c = await open(port, box);
      assert.deepEqual((await c.cmd('SEARCH HEADER X-Tracker ALPHA')).untagged, ['* SEARCH 1']);
      // an empty string matches every message that has the field
      assert.deepEqual((await c.cmd('SEARCH HEADER x-tracker ""')).untagged, ['* SEARCH 1 3']);
      assert.deepEqual((await c.cmd('SEARCH NOT HEADER X-Tracker ""')).untagged, ['* SEARCH 2 4 5']);
      // the inner message's field is not the message's
      assert.deepEqual((await c.cmd('SEARCH HEADER X-Tracker inner')).untagged, ['* SEARCH']);
      assert.deepEqual((await c.cmd('SEARCH OR HEADER X-Tracker beta BODY fox')).untagged, ['* SEARCH 1 3']);
    });

    it('combines with NOT and OR; bodies are read only for messages the other keys leave open', async () => {
      const c = await open(port, box);
      assert.deepEqual((await c.cmd('SEARCH OR BODY fox BODY zebra')).untagged, ['* SEARCH 1 2']);
      assert.deepEqual((await c.cmd('SEARCH NOT BODY fox')).untagged, ['* SEARCH 2 3 4 5']);
      reads();
      assert.deepEqual((await c.cmd(`SEARCH UID ${d[0].uid} BODY fox`)).untagged, ['* SEARCH 1']);
      assert.deepEqual(reads(), [d[0].uid], 'only message 1 was read');
      assert.deepEqual((await c.cmd('SEARCH OR SUBJECT three BODY tango')).untagged, ['* SEARCH 3 4']);
      assert.deepEqual(reads(), [d[0].uid, d[1].uid, d[3].uid, d[4].uid], 'message 3 matched on its subject');
      assert.deepEqual((await c.cmd('SEARCH FLAGGED BODY fox')).untagged, ['* SEARCH']);
      assert.deepEqual(reads(), [], 'nothing flagged: no body read');
    });

    it('a message whose octets are gone matches nothing; the search still completes', {
      skip: chunk !== undefined,
    }, async () => {
      const [lost] = await deliverAll('Lost');
      const mailboxId = (await storage.mail.getMailbox(account.accountId, 'Lost'))!.mailboxId;
      const [meta] = await storage.mail.getMessages({ accountId: account.accountId, mailboxId }, [lost.uid]);
      await storage.blobs.delete(meta.blobKey);
      const c = await open(port, 'Lost');
      assert.deepEqual(await c.cmd('SEARCH OR BODY fox BODY zebra', 'g1'), {
        untagged: ['* SEARCH 2'],
        status: 'g1 OK SEARCH completed',
      });
    });

    it(`reads at most ${MAX_SEARCH_OCTETS} octets of a message`, { skip: chunk !== undefined }, async () => {
      await storage.mail.createMailbox(account.accountId, 'Big');
      const filler = `${'lorem ipsum dolor '.repeat(4)}\r\n`;
      const fill = (octets: number) => filler.repeat(Math.ceil(octets / filler.length));
      const body = `needle-at-start\r\n${fill(MAX_SEARCH_OCTETS - 50_000)}needle-before-cap\r\n${fill(100_000)}needle-at-end\r\n`;
      await deliverTo(storage, account.accountId, Buffer.from(`Subject: big\r\n\r\n${body}`), { mailbox: 'Big' });
      const c = await open(port, 'Big');
      assert.deepEqual((await c.cmd('SEARCH BODY needle-at-start')).untagged, ['* SEARCH 1']);
      assert.deepEqual((await c.cmd('SEARCH BODY needle-before-cap')).untagged, ['* SEARCH 1']);
      assert.deepEqual((await c.cmd('SEARCH BODY needle-at-end')).untagged, ['* SEARCH']);
    });
  });
}

describe('IMAP SEARCH CHARSET (RFC 9051 §6.4.4)', () => {
  it('UTF-8 and US-ASCII are accepted; others are NO [BADCHARSET (UTF-8 US-ASCII)]', async () => {
    await storage.mail.createMailbox(account.accountId, 'Charset');
    await deliverTo(storage, account.accountId, Buffer.from(PLAIN), { mailbox: 'Charset' });
    const { port } = await serve();
    const c = await open(port, 'Charset');
    assert.deepEqual((await c.cmd('SEARCH CHARSET US-ASCII BODY fox')).untagged, ['* SEARCH 1']);
    assert.deepEqual((await c.cmd('SEARCH CHARSET UTF-8 SUBJECT plain')).untagged, ['* SEARCH 1']);
    const known = await c.cmd('SEARCH CHARSET ISO-8859-1 BODY fox', 'k1');
    assert.deepEqual(known, { untagged: [], status: 'k1 NO [BADCHARSET (UTF-8 US-ASCII)] unsupported charset' });
    const unknown = await c.cmd('SEARCH CHARSET X-KLINGON BODY fox', 'k2');
    assert.match(unknown.status, /^k2 NO \[BADCHARSET \(UTF-8 US-ASCII\)\] /);
  });
});

describe('ESEARCH (RFC 4731)', () => {
  let port: number;
  let d: Delivered[];
  before(async () => {
    d = await deliverAll('Es');
    ({ port } = await serve());
  });

  it('RETURN (MIN MAX COUNT ALL) answers one ESEARCH with the tag, ALL as a compact set (§3.1)', async () => {
    const c = await open(port, 'Es');
    const r = await c.cmd('SEARCH RETURN (MIN MAX COUNT ALL) NOT SUBJECT three', 'e1');
    assert.deepEqual(r, {
      untagged: ['* ESEARCH (TAG "e1") MIN 1 MAX 5 COUNT 4 ALL 1:2,4:5'],
      status: 'e1 OK SEARCH completed',
    });
    const u = await c.cmd('UID SEARCH RETURN (COUNT MIN) BODY fox', 'e2');
    assert.deepEqual(u.untagged, [`* ESEARCH (TAG "e2") UID MIN ${d[0].uid} COUNT 1`]);
    assert.equal(u.status, 'e2 OK UID SEARCH completed');
  });

  it('RETURN () is RETURN (ALL) (§3.1); UID ESEARCH ALL lists UIDs', async () => {
    const c = await open(port, 'Es');
    const r = await c.cmd('UID SEARCH RETURN () ALL', 'e3');
    assert.deepEqual(r.untagged, [`* ESEARCH (TAG "e3") UID ALL ${d[0].uid}:${d[4].uid}`]);
  });

  it('nothing found: no MIN, MAX or ALL, COUNT 0 (§3.1)', async () => {
    const c = await open(port, 'Es');
    const r = await c.cmd('SEARCH RETURN (MIN MAX ALL COUNT) BODY nothing-like-this', 'e4');
    assert.deepEqual(r.untagged, ['* ESEARCH (TAG "e4") COUNT 0']);
    const u = await c.cmd('UID SEARCH RETURN (MIN) BODY nothing-like-this', 'e5');
    assert.deepEqual(u.untagged, ['* ESEARCH (TAG "e5") UID']);
  });

  it('with MODSEQ: the highest mod-sequence of the messages returned (RFC 7162 §3.1.5)', async () => {
    const c = await open(port, 'Es');
    const index = await storage.mail.listIndex({
      accountId: account.accountId,
      mailboxId: (await storage.mail.getMailbox(account.accountId, 'Es'))!.mailboxId,
    });
    const r = await c.cmd('SEARCH RETURN (MIN) MODSEQ 1', 'e6');
    assert.deepEqual(r.untagged, [`* ESEARCH (TAG "e6") MIN 1 MODSEQ ${index[0].modseq}`]);
    const all = await c.cmd('SEARCH RETURN (COUNT) MODSEQ 1', 'e7');
    const top = Math.max(...index.map((e) => e.modseq));
    assert.deepEqual(all.untagged, [`* ESEARCH (TAG "e7") COUNT 5 MODSEQ ${top}`]);
  });

  it('under IMAP4rev2 a SEARCH without RETURN answers ESEARCH, never * SEARCH (RFC 9051 §6.4.4, §7.3.4)', async () => {
    const rev2 = await serve({ rev2: true });
    const c = await open(rev2.port, 'Es');
    assert.deepEqual((await c.cmd('SEARCH BODY fox', 'r1')).untagged, ['* ESEARCH (TAG "r1") ALL 1']);
    assert.deepEqual((await c.cmd('UID SEARCH BODY nothing-like-this', 'r2')).untagged, ['* ESEARCH (TAG "r2") UID']);
    assert.deepEqual((await c.cmd('SEARCH RETURN (COUNT) ALL', 'r3')).untagged, ['* ESEARCH (TAG "r3") COUNT 5']);
  });

  it('imapflow parses the ESEARCH answer it asks for when ESEARCH is advertised', async () => {
    const client = imapflow(port, { user: 'alice@example.com', pass: 'secret' }, 'plain');
    await client.connect();
    try {
      assert.ok(client.capabilities.has('ESEARCH'));
      await client.mailboxOpen('Es');
      const r = await client.search({ body: 'fox' }, { uid: true, returnOptions: ['MIN', 'MAX', 'COUNT', 'ALL'] });
      assert.deepEqual(r, { min: d[0].uid, max: d[0].uid, count: 1, all: `${d[0].uid}` });
      const plain = await client.search({ or: [{ body: 'zebra' }, { body: 'lait' }] });
      assert.deepEqual(plain, [2, 3]);
    } finally {
      await client.logout();
    }
  });
});

describe('SEARCHRES (RFC 5182)', () => {
  let port: number;
  let d: Delivered[];
  let mailbox = 0;
  /** A fresh mailbox of the five messages, 1 and 3 flagged. */
  async function fresh(): Promise<string> {
    const name = `Res${++mailbox}`;
    d = await deliverAll(name, true);
    return name;
  }
  before(async () => {
    ({ port } = await serve());
  });

  it('$ before any SAVE is empty (§2.1); SAVE alone answers no ESEARCH (§2.2); $ works in FETCH, STORE, SEARCH, COPY', async () => {
    const c = await open(port, await fresh());
    assert.deepEqual(await c.cmd('FETCH $ (UID)', 's1'), { untagged: [], status: 's1 OK FETCH completed' });
    assert.deepEqual(await c.cmd('SEARCH RETURN (SAVE) FLAGGED', 's2'), {
      untagged: [],
      status: 's2 OK SEARCH completed',
    });
    assert.deepEqual((await c.cmd('FETCH $ (UID)')).untagged, [
      `* 1 FETCH (UID ${d[0].uid})`,
      `* 3 FETCH (UID ${d[2].uid})`,
    ]);
    // the saved result is UIDs underneath: UID commands see the same messages
    assert.deepEqual((await c.cmd('UID FETCH $ (FLAGS)')).untagged, [
      `* 1 FETCH (UID ${d[0].uid} FLAGS (\\Flagged))`,
      `* 3 FETCH (UID ${d[2].uid} FLAGS (\\Flagged))`,
    ]);
    assert.deepEqual((await c.cmd('STORE $ +FLAGS (\\Seen)')).untagged, [
      '* 1 FETCH (FLAGS (\\Flagged \\Seen))',
      '* 3 FETCH (FLAGS (\\Flagged \\Seen))',
    ]);
    assert.deepEqual((await c.cmd('SEARCH $ BODY lait')).untagged, ['* SEARCH 3']);
    assert.deepEqual((await c.cmd('UID SEARCH UID $')).untagged, [`* SEARCH ${d[0].uid} ${d[2].uid}`]);
    assert.deepEqual((await c.cmd('SEARCH NOT $')).untagged, ['* SEARCH 2 4 5']);
    const copy = await c.cmd('COPY $ Archive');
    assert.match(copy.status, new RegExp(`OK \\[COPYUID \\d+ ${d[0].uid},${d[2].uid} \\d+:\\d+\\]`));
  });

  it('SEARCH $ RETURN (SAVE) uses the old result, then replaces it; UID SEARCH saves for FETCH $ too', async () => {
    const c = await open(port, await fresh());
    await c.cmd('UID SEARCH RETURN (SAVE) BODY fox');
    assert.deepEqual((await c.cmd('FETCH $ (UID)')).untagged, [`* 1 FETCH (UID ${d[0].uid})`]);
    await c.cmd('SEARCH RETURN (SAVE) OR $ BODY zebra');
    assert.deepEqual((await c.cmd('SEARCH $')).untagged, ['* SEARCH 1 2']);
  });

  it('SAVE with MIN or MAX keeps only those; with ALL or COUNT everything found (§2.4)', async () => {
    const c = await open(port, await fresh());
    assert.deepEqual((await c.cmd('SEARCH RETURN (SAVE MIN) ALL', 'm1')).untagged, ['* ESEARCH (TAG "m1") MIN 1']);
    assert.deepEqual((await c.cmd('SEARCH $')).untagged, ['* SEARCH 1']);
    const both = await c.cmd('SEARCH RETURN (MIN MAX SAVE) NOT FLAGGED', 'm2');
    assert.deepEqual(both.untagged, ['* ESEARCH (TAG "m2") MIN 2 MAX 5']);
    assert.deepEqual((await c.cmd('SEARCH $')).untagged, ['* SEARCH 2 5']);
    assert.deepEqual((await c.cmd('SEARCH RETURN (MAX COUNT SAVE) NOT FLAGGED', 'm3')).untagged, [
      '* ESEARCH (TAG "m3") MAX 5 COUNT 3',
    ]);
    assert.deepEqual((await c.cmd('SEARCH $')).untagged, ['* SEARCH 2 4 5']);
  });

  it('a SAVE search answered NO empties $; one answered BAD leaves it (§2.1)', async () => {
    const c = await open(port, await fresh());
    await c.cmd('SEARCH RETURN (SAVE) FLAGGED');
    assert.match((await c.cmd('SEARCH RETURN (SAVE) NOSUCHKEY')).status, /^a\d+ BAD /);
    assert.deepEqual((await c.cmd('SEARCH $')).untagged, ['* SEARCH 1 3']);
    assert.match((await c.cmd('SEARCH CHARSET ISO-8859-1 BODY x')).status, /NO \[BADCHARSET/);
    assert.deepEqual((await c.cmd('SEARCH $')).untagged, ['* SEARCH 1 3'], 'NO without SAVE changes nothing');
    assert.match((await c.cmd('SEARCH RETURN (SAVE) CHARSET ISO-8859-1 BODY x')).status, /NO \[BADCHARSET/);
    assert.deepEqual((await c.cmd('SEARCH $')).untagged, ['* SEARCH']);
    // a charset the parser does not know is refused before the command runs: $ is emptied all the same
    await c.cmd('UID SEARCH RETURN (SAVE) FLAGGED');
    assert.deepEqual((await c.cmd('SEARCH $')).untagged, ['* SEARCH 1 3']);
    assert.match((await c.cmd('UID SEARCH RETURN (SAVE) CHARSET X-KLINGON BODY x')).status, /NO \[BADCHARSET/);
    assert.deepEqual((await c.cmd('SEARCH $')).untagged, ['* SEARCH']);
  });

  it('an expunge removes messages from $ and renumbers the rest (§2.1); UID EXPUNGE $', async () => {
    const c = await open(port, await fresh());
    await c.cmd('SEARCH RETURN (SAVE) NOT SUBJECT four');
    await c.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual((await c.cmd('EXPUNGE')).untagged, ['* 1 EXPUNGE']);
    assert.deepEqual((await c.cmd('FETCH $ (UID)')).untagged, [
      `* 1 FETCH (UID ${d[1].uid})`,
      `* 2 FETCH (UID ${d[2].uid})`,
      `* 4 FETCH (UID ${d[4].uid})`,
    ]);
    await c.cmd('STORE 1:* +FLAGS.SILENT (\\Deleted)');
    // only the saved messages go: message 3 (subject four) stays
    assert.deepEqual((await c.cmd('UID EXPUNGE $')).untagged, ['* 4 EXPUNGE', '* 2 EXPUNGE', '* 1 EXPUNGE']);
    assert.deepEqual((await c.cmd('UID SEARCH ALL')).untagged, [`* SEARCH ${d[3].uid}`]);
  });

  it('SELECT and EXAMINE, of the same mailbox too, reset $ to empty (§2.1); MOVE $', async () => {
    // (after CLOSE or UNSELECT only a new SELECT makes `$` usable again, so those resets cannot be seen)
    const name = await fresh();
    const c = await open(port, name);
    for (const again of [`SELECT ${name}`, `EXAMINE ${name}`, `SELECT ${name}`]) {
      await c.cmd('SEARCH RETURN (SAVE) ALL');
      assert.deepEqual((await c.cmd('SEARCH $')).untagged, ['* SEARCH 1 2 3 4 5']);
      assert.match((await c.cmd(again)).status, /^a\d+ OK /);
      assert.deepEqual((await c.cmd('SEARCH $')).untagged, ['* SEARCH'], again);
    }
    await c.cmd('SEARCH RETURN (SAVE) FLAGGED');
    const moved = await c.cmd('MOVE $ Archive');
    assert.match(moved.status, /^a\d+ OK /);
    assert.deepEqual(
      moved.untagged.filter((l) => l.endsWith('EXPUNGE')),
      ['* 3 EXPUNGE', '* 1 EXPUNGE'],
    );
    assert.deepEqual((await c.cmd('SEARCH ALL')).untagged, ['* SEARCH 1 2 3']);
  });
});
