/**
 * Helpers for the tests with Debian's sync clients (mbsync, offlineimap, neomutt): a gateway with mail
 * delivered over SMTP, what POP3 says about it (UIDL and bytes), the server's state as a second client sees
 * it (every mailbox's STATUS, flags and bytes, read with the raw ImapClient), Maildir trees on disk, and a
 * pseudo-terminal driver for programs that only talk to a terminal.
 */
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { after } from 'node:test';
import { ImapClient } from './imap-support.ts';
import { bytesOf, makeMessage, poplib, retrieved, run } from './pop3-support.ts';
import { type MxTestGateway, sendMail, simpleMessage, startMxGateway } from './smtp-helpers.ts';

export interface SyncWorld {
  readonly tg: MxTestGateway;
  /** A scratch directory for this file, removed at the end. */
  readonly dir: string;
  /** The gateway's self-signed certificate (CN localhost, IP 127.0.0.1) as a trust anchor for the clients. */
  readonly certFile: string;
}

/** A gateway with the stub DNS (sender.test passes SPF), a scratch directory and the certificate on disk. */
export async function startSyncWorld(name: string): Promise<SyncWorld> {
  const tg = await startMxGateway();
  const dir = mkdtempSync(join(tmpdir(), `postern-${name}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const certFile = join(dir, 'gateway-cert.pem');
  writeFileSync(certFile, tg.tls.cert);
  return { tg, dir, certFile };
}

/** Messages a sync client must keep byte for byte: dot lines, 8-bit latin1 text, MIME parts, a big one (200 kB). */
export function messageSet(to: string, subjects: string[]): Buffer[] {
  const kinds = [
    (subject: string) => simpleMessage({ to, subject, body: '.\r\n..dots\r\n.leading dot\r\nFrom the start\r\n' }),
    (subject: string) =>
      Buffer.from(
        simpleMessage({
          to,
          subject,
          extra:
            'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n',
          body: 'caf\xe9 cr\xe8me \xff\r\n',
        }),
        'latin1',
      ),
    (subject: string) =>
      simpleMessage({
        to,
        subject,
        extra: 'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b1"\r\n',
        body: '--b1\r\nContent-Type: text/plain\r\n\r\nplain\r\n--b1\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b1--\r\n',
      }),
    (subject: string) => {
      const big = makeMessage(subject, 200_000).toString('latin1');
      return simpleMessage({ to, subject, body: big.slice(big.indexOf('\r\n\r\n') + 4) });
    },
  ];
  return subjects.map((s, i) => {
    const m = kinds[i % kinds.length](s);
    return typeof m === 'string' ? Buffer.from(m) : m;
  });
}

/** Delivers each message over SMTP (the whole pipeline: filter, store with summary). */
export async function deliverOverSmtp(tg: MxTestGateway, to: string, messages: Buffer[]): Promise<void> {
  for (const data of messages) {
    const r = await sendMail(tg.port('smtp'), { from: 'alice@sender.test', to: [to], data });
    if (r.code !== 250) throw new Error(`SMTP delivery failed: ${r.code} ${r.text}`);
  }
}

/** INBOX as POP3 sees it: UIDL (`uidvalidity.uid`) → the message's bytes. */
export async function popInbox(port: number, user: string, pass: string): Promise<Map<string, Buffer>> {
  const first = await poplib({ mode: 'plain', port, steps: [['user', user], ['pass_', pass], ['uidl'], ['quit']] });
  const listing = (first.steps[2] as unknown[])[1] as Parameters<typeof bytesOf>[0][];
  const ids = listing.map((l) => bytesOf(l).toString().split(' ') as [string, string]);
  const r = await poplib({
    mode: 'plain',
    port,
    steps: [['user', user], ['pass_', pass], ...ids.map(([n]) => ['retr', Number(n)]), ['quit']],
  });
  const out = new Map<string, Buffer>();
  ids.forEach(([, uidl], i) => {
    const { lines } = retrieved(r.steps[2 + i]);
    out.set(uidl, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\r\n')])));
  });
  return out;
}

/** Maildir files keep bare LF line ends: what mbsync and offlineimap write for a CRLF message. */
export const lf = (b: Buffer): Buffer => Buffer.from(b.toString('latin1').replaceAll('\r\n', '\n'), 'latin1');

/** What a Maildir file becomes on the wire (RFC 5322 §2.3: CRLF line ends). */
export const crlf = (b: Buffer): Buffer => Buffer.from(b.toString('latin1').replaceAll('\n', '\r\n'), 'latin1');

export interface ServerMessage {
  readonly uid: number;
  readonly flags: string[];
  readonly internalDate: string;
  readonly bytes: Buffer;
}

export interface ServerMailbox {
  /** MESSAGES, UIDNEXT, UIDVALIDITY, HIGHESTMODSEQ from STATUS: any write changes one of them. */
  readonly status: Record<string, number>;
  readonly messages: ServerMessage[];
}

const quote = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;

/** Logs in over IMAPS as a second client, runs `use`, logs out. */
async function withLogin<T>(port: number, user: string, pass: string, use: (c: ImapClient) => Promise<T>): Promise<T> {
  const c = await ImapClient.connect(port, { tls: true });
  try {
    await c.line();
    expectOk(await c.cmd(`LOGIN ${quote(user)} ${quote(pass)}`));
    const result = await use(c);
    await c.cmd('LOGOUT');
    return result;
  } finally {
    c.destroy();
  }
}

/**
 * Every mailbox of the account (LIST "" "*"), read by a second client with EXAMINE (no side effects); a
 * name listed as \Noselect shows with no status and no messages.
 */
export function serverState(port: number, user: string, pass: string): Promise<Map<string, ServerMailbox>> {
  return withLogin(port, user, pass, async (c) => {
    const list = expectOk(await c.cmd('LIST "" "*"')).untagged.map(listed);
    const out = new Map<string, ServerMailbox>();
    for (const { name, attributes } of list.sort((x, y) => (x.name < y.name ? -1 : 1))) {
      if (attributes.includes('\\Noselect')) {
        out.set(name, { status: {}, messages: [] });
        continue;
      }
      const st = expectOk(await c.cmd(`STATUS ${quote(name)} (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)`));
      const status = Object.fromEntries(
        [...(/\(([^)]*)\)$/.exec(st.untagged[0] ?? '')?.[1] ?? '').matchAll(/(\w+) (\d+)/g)].map((m) => [
          m[1],
          Number(m[2]),
        ]),
      );
      expectOk(await c.cmd(`EXAMINE ${quote(name)}`));
      const messages = status.MESSAGES
        ? expectOk(await c.cmd('UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])')).untagged.map(fetched)
        : [];
      out.set(name, { status, messages });
    }
    return out;
  });
}

function expectOk<T extends { status: string }>(r: T): T {
  if (!/^\S+ OK/.test(r.status)) throw new Error(`IMAP: ${r.status}`);
  return r;
}

/** A `* LIST (attributes) "/" name` line. */
function listed(line: string): { name: string; attributes: string[] } {
  const m = /^\* LIST \(([^)]*)\) (?:"[^"]*"|NIL) (.*)$/.exec(line);
  if (!m) throw new Error(`not a LIST line: ${line}`);
  const raw = m[2];
  const name = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  return { name, attributes: m[1].split(' ').filter(Boolean) };
}

/** LIST "" "*" as a second client sees it: name → attributes. */
export async function listMailboxes(port: number, user: string, pass: string): Promise<Map<string, string[]>> {
  return withLogin(port, user, pass, async (c) => {
    const list = expectOk(await c.cmd('LIST "" "*"'));
    return new Map(list.untagged.map(listed).map((l) => [l.name, l.attributes] as const));
  });
}

/** One `* n FETCH (...)` line with its BODY[] literal inline (latin1, so byte-exact). */
function fetched(line: string): ServerMessage {
  const lit = /BODY\[\] \{(\d+)\}\r\n/.exec(line);
  if (!lit) throw new Error(`no BODY[] in ${line.slice(0, 200)}`);
  const start = lit.index + lit[0].length;
  const bytes = Buffer.from(line.slice(start, start + Number(lit[1])), 'latin1');
  const rest = line.slice(0, lit.index) + line.slice(start + Number(lit[1]));
  return {
    uid: Number(/UID (\d+)/.exec(rest)?.[1]),
    flags: (/FLAGS \(([^)]*)\)/.exec(rest)?.[1] ?? '').split(' ').filter(Boolean).sort(),
    internalDate: /INTERNALDATE "([^"]*)"/.exec(rest)?.[1] ?? '',
    bytes,
  };
}

/** A second client's change on the server: selects `mailbox` and runs `commands`, each of which must succeed. */
export function onServer(port: number, user: string, pass: string, mailbox: string, commands: string[]): Promise<void> {
  return withLogin(port, user, pass, async (c) => {
    expectOk(await c.cmd(`SELECT ${quote(mailbox)}`));
    for (const command of commands) expectOk(await c.cmd(command));
  });
}

/** Every regular file under `root` (dot files aside): relative path → bytes. */
export function readTree(root: string, keepDotFiles = false): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.') && !keepDotFiles) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.set(relative(root, path), readFileSync(path));
    }
  };
  walk(root);
  return out;
}

/** The messages of one Maildir folder (cur and new): file name → bytes. */
export function maildirMessages(folder: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const sub of ['cur', 'new']) {
    for (const name of readdirSync(join(folder, sub)).sort())
      out.set(`${sub}/${name}`, readFileSync(join(folder, sub, name)));
  }
  return out;
}

export const subjectOf = (b: Buffer): string => /^Subject: (.*)$/m.exec(b.toString('latin1'))?.[1]?.trim() ?? '';

/** A server mailbox's messages by subject. */
export const bySubject = (box: ServerMailbox | undefined): Map<string, ServerMessage> =>
  new Map((box?.messages ?? []).map((m) => [subjectOf(m.bytes), m] as const));

/** A local Maildir folder's files by subject: name (`cur/...` or `new/...`) and bytes. */
export function localBySubject(root: string, folder: string): Map<string, { name: string; bytes: Buffer }> {
  return new Map(
    [...maildirMessages(join(root, folder))].map(([name, bytes]) => [subjectOf(bytes), { name, bytes }] as const),
  );
}

/** Maildir info flags of a file name (`...:2,FS` → ['F', 'S']). */
export const maildirFlags = (name: string): string[] => [...(/:2,([A-Za-z]*)$/.exec(name)?.[1] ?? '')].sort();

/**
 * Runs a program on a pseudo-terminal (python3's pty module), typing nothing: for clients that print their
 * counters or draw their screen only on a terminal. Returns the exit code (-1 when killed at the timeout)
 * and everything it wrote. A shell between the pty and the program reports the program's exit code in the
 * output: the session leader of a pty can be hung up as it exits (seen under gVisor), the shell's child is not.
 */
export async function runOnPty(
  argv: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<{ code: number; out: string }> {
  const r = await run(
    'python3',
    ['-c', PTY_DRIVER, JSON.stringify({ argv, env, timeout: timeoutMs / 1000 })],
    timeoutMs + 10_000,
  );
  if (r.code !== 0) throw new Error(`pty driver failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.toString()) as { code: number; out: string };
}

const PTY_DRIVER = `
import os, pty, sys, select, time, struct, fcntl, termios, json
cfg = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    report = '"$@"; s=$?; printf "\\n[pty-exit %d]\\n" "$s"'
    os.execve('/bin/sh', ['sh', '-c', report, 'sh'] + cfg['argv'], cfg['env'])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 132, 0, 0))
out = b''
deadline = time.time() + cfg['timeout']
code = None
while code is None and time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            out += os.read(fd, 65536)
        except OSError:
            pass
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        code = os.waitstatus_to_exitcode(status)
if code is None:
    os.killpg(pid, 9)
    os.waitpid(pid, 0)
    code = -1
try:
    while select.select([fd], [], [], 0)[0]:
        d = os.read(fd, 65536)
        if not d: break
        out += d
except OSError:
    pass
text = out.decode('latin1')
at = text.rfind('[pty-exit ')
if at >= 0 and code != -1:
    code = int(text[at + 10:text.index(']', at)])
    text = text[:at]
print(json.dumps({'code': code, 'out': text}))
`;

/** Byte equality with a readable failure: where the first difference is, with the text around it. */
export function assertSameBytes(actual: Buffer | undefined, expected: Buffer, what: string): void {
  if (actual?.equals(expected)) return;
  if (!actual) throw new assert.AssertionError({ message: `${what}: missing`, expected, actual });
  let at = 0;
  while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++;
  const around = (b: Buffer) => JSON.stringify(b.subarray(Math.max(0, at - 60), at + 60).toString('latin1'));
  throw new assert.AssertionError({
    message: `${what}: ${actual.length} bytes vs ${expected.length} expected, first difference at ${at}\n  actual:   ${around(actual)}\n  expected: ${around(expected)}`,
  });
}

// ---------------------------------------------------------------- the two-way story of the sync tests

/** What each sync test delivers first: alpha is flagged locally, bravo on the server, and so on. */
export const STORY_SUBJECTS = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];

/**
 * A mail client's changes in the Maildir `mail`: alpha flagged and read, delta deleted, echo moved to Archive
 * (as a new file there: `stripId` removes the sync tool's id for the old folder from its name), `folders`
 * created, `sentMessage` saved in Sent/cur as read. Returns the Sent file's path.
 */
export function changeLocally(mail: string, opts: { stripId: RegExp; folders: string[]; sentMessage: Buffer }): string {
  const inbox = localBySubject(mail, 'INBOX');
  const alpha = inbox.get('alpha')!.name;
  renameSync(join(mail, 'INBOX', alpha), join(mail, 'INBOX/cur', `${basename(alpha).replace(/:2,.*$/, '')}:2,FS`));
  rmSync(join(mail, 'INBOX', inbox.get('delta')!.name));
  const echo = inbox.get('echo')!.name;
  renameSync(join(mail, 'INBOX', echo), join(mail, 'Archive/cur', basename(echo).replace(opts.stripId, '')));
  for (const folder of opts.folders) makeMaildir(join(mail, folder));
  const sentFile = join(mail, 'Sent/cur/1780308005.M1P1.client:2,S');
  writeFileSync(sentFile, lf(opts.sentMessage));
  return sentFile;
}

export function makeMaildir(path: string): void {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(path, sub), { recursive: true });
}

/**
 * Another client's changes on the server: bravo answered and flagged, charlie moved to Archive, and foxtrot
 * delivered over SMTP. Returns INBOX as it was before, by subject.
 */
export async function changeOnServer(
  tg: MxTestGateway,
  user: string,
  pass: string,
): Promise<Map<string, ServerMessage>> {
  const port = tg.port('imaps');
  const inbox = bySubject((await serverState(port, user, pass)).get('INBOX'));
  await onServer(port, user, pass, 'INBOX', [
    `UID STORE ${inbox.get('bravo')!.uid} +FLAGS (\\Answered \\Flagged)`,
    `UID MOVE ${inbox.get('charlie')!.uid} Archive`,
  ]);
  await deliverOverSmtp(tg, user, messageSet(user, ['foxtrot']));
  return inbox;
}

/**
 * Both sides after the sync that met those changes. `stored` undoes what the sync tool adds to each message
 * it copies (mbsync's X-TUID header); `mailboxes` are the server's mailboxes then. Returns the server state.
 */
export async function assertChangesMet(
  tg: MxTestGateway,
  account: { user: string; pass: string; mail: string },
  opts: { before: Map<string, ServerMessage>; sentMessage: Buffer; mailboxes: string[]; stored: (b: Buffer) => Buffer },
): Promise<Map<string, ServerMailbox>> {
  const { stored, before } = opts;
  const server = await serverState(tg.port('imaps'), account.user, account.pass);
  assert.deepEqual([...server.keys()], opts.mailboxes);
  const inbox = bySubject(server.get('INBOX'));
  assert.deepEqual([...inbox.keys()].sort(), ['alpha', 'bravo', 'foxtrot']);
  assert.deepEqual(inbox.get('alpha')?.flags, ['\\Flagged', '\\Seen']);
  assert.deepEqual(inbox.get('bravo')?.flags, ['\\Answered', '\\Flagged']);
  const archive = bySubject(server.get('Archive'));
  assert.deepEqual([...archive.keys()].sort(), ['charlie', 'echo']);
  // echo went up from its Maildir file: CRLF again, the server's original bytes
  assertSameBytes(stored(archive.get('echo')!.bytes), before.get('echo')!.bytes, 'echo uploaded to Archive');
  assertSameBytes(archive.get('charlie')?.bytes, before.get('charlie')!.bytes, 'charlie moved on the server');
  const sent = server.get('Sent')?.messages ?? [];
  assert.equal(sent.length, 1);
  assertSameBytes(stored(sent[0].bytes), opts.sentMessage, 'the sent message as APPENDed');
  assert.deepEqual(sent[0].flags, ['\\Seen']);

  const local = localBySubject(account.mail, 'INBOX');
  assert.deepEqual([...local.keys()].sort(), ['alpha', 'bravo', 'foxtrot']);
  assert.deepEqual(maildirFlags(local.get('alpha')!.name), ['F', 'S']);
  assert.deepEqual(maildirFlags(local.get('bravo')!.name), ['F', 'R']);
  assertSameBytes(stored(local.get('foxtrot')!.bytes), lf(inbox.get('foxtrot')!.bytes), 'foxtrot downloaded');
  const localArchive = localBySubject(account.mail, 'Archive');
  assert.deepEqual([...localArchive.keys()].sort(), ['charlie', 'echo']);
  assertSameBytes(stored(localArchive.get('charlie')!.bytes), lf(archive.get('charlie')!.bytes), 'charlie downloaded');
  return server;
}
