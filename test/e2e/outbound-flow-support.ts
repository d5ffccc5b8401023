/**
 * Helpers for the outbound end-to-end tests (not a test file itself): an in-process gateway that works its
 * DynamoDB queue as the gateway process does (test/support/gateway.ts `deliver`), with DKIM keys for ours.test
 * made beforehand in the local key store; Python's smtplib submitting on 587 with STARTTLS and imaplib reading
 * a mailbox (clients nobody here wrote); a TCP proxy that cuts the connection at the end of DATA once; and
 * waiting on the queue's per-recipient state.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { promisify } from 'node:util';
import type { QueueEntry } from '../../lib/core/outbound.ts';
import { dkimRecordName, dkimRecordText, generateKeySet } from '../../lib/outbound/dkimKeys.ts';
import { dkimKeyDir, localDkimKeyStore } from '../../lib/outbound/dkimLocalKeys.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const run = promisify(execFile);

export const DOMAIN = 'ours.test';

export interface OutboundGateway {
  readonly tg: TestGateway;
  readonly dataDir: string;
  /** The DKIM TXT records of ours.test's keys, as DNS would answer them (owner name with the dot -> text). */
  readonly dkimRecords: Record<string, string>;
}

/** Makes ours.test's key set (RSA and Ed25519) in `<dataDir>/dkim`, as `admin domain add` does. */
export async function makeDkimKeys(dataDir: string): Promise<Record<string, string>> {
  const store = localDkimKeyStore(dkimKeyDir(dataDir));
  const records: Record<string, string> = {};
  for (const key of generateKeySet(DOMAIN, [], Date.now())) {
    await store.add(key);
    records[dkimRecordName(key)] = dkimRecordText(key);
  }
  return records;
}

/** A gateway whose queue is worked every 200 ms and after each enqueue, with `env` choosing the transport. */
export async function startOutboundGateway(env: Record<string, string>): Promise<OutboundGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'postern-outbound-e2e-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const dkimRecords = await makeDkimKeys(dataDir);
  const tg = await startTestGateway({
    deliver: true,
    env: {
      POSTERN_DATA_DIR: dataDir,
      POSTERN_DKIM_KEY_STORE: 'local',
      POSTERN_QUEUE_POLL_MS: '200',
      POSTERN_AUTH_FAILURE_DELAY_MS: '0',
      ...env,
    },
  });
  return { tg, dataDir, dkimRecords };
}

const SUBMIT = `
import smtplib, ssl, sys, json
ctx = ssl._create_unverified_context()
port, user, password, sender = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
opts = json.loads(sys.argv[6])
if opts['implicitTls']:
    s = smtplib.SMTP_SSL('127.0.0.1', port, timeout=30, context=ctx)
    s.ehlo('client.example')
else:
    s = smtplib.SMTP('127.0.0.1', port, timeout=30)
    s.ehlo('client.example')
    s.starttls(context=ctx)
    s.ehlo('client.example')
s.login(user, password)
refused = s.sendmail(sender, json.loads(sys.argv[5]), sys.stdin.buffer.read(), opts['mail'], opts['rcpt'])
s.quit()
print(json.dumps({k: [v[0], v[1].decode()] for k, v in refused.items()}))
`;

export interface SubmitOptions {
  /** Port 465 with TLS from the first byte instead of 587 with STARTTLS. */
  readonly implicitTls?: boolean;
  /** MAIL FROM and RCPT TO parameters (the same for every recipient), e.g. RET=HDRS, NOTIFY=SUCCESS. */
  readonly mail?: readonly string[];
  readonly rcpt?: readonly string[];
}

/** Python smtplib: EHLO, STARTTLS (or 465), AUTH, one transaction on the submission port; the refused recipients. */
export async function submit(
  tg: Pick<TestGateway, 'port'>,
  account: { address: string; password: string },
  mailFrom: string,
  recipients: readonly string[],
  message: string,
  opts: SubmitOptions = {},
): Promise<Record<string, [number, string]>> {
  const port = tg.port(opts.implicitTls ? 'submissions' : 'submission');
  const options = JSON.stringify({ implicitTls: !!opts.implicitTls, mail: opts.mail ?? [], rcpt: opts.rcpt ?? [] });
  const args = [String(port), account.address, account.password, mailFrom, JSON.stringify(recipients), options];
  const child = run('/usr/bin/python3', ['-c', SUBMIT, ...args], { timeout: 60_000 });
  child.child.stdin?.end(message);
  const { stdout } = await child;
  return JSON.parse(stdout) as Record<string, [number, string]>;
}

const FETCH = `
import imaplib, ssl, sys, json, base64
m = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ssl._create_unverified_context())
m.login(sys.argv[2], sys.argv[3])
m.select('INBOX', readonly=True)
out = []
for n in m.search(None, 'ALL')[1][0].split():
    out.append(base64.b64encode(m.fetch(n, '(BODY.PEEK[])')[1][0][1]).decode())
m.logout()
print(json.dumps(out))
`;

/** Every message in the account's INBOX, read with Python imaplib over IMAPS. */
export async function inbox(
  tg: Pick<TestGateway, 'port'>,
  account: { address: string; password: string },
): Promise<Buffer[]> {
  const args = [String(tg.port('imaps')), account.address, account.password];
  const { stdout } = await run('/usr/bin/python3', ['-c', FETCH, ...args], { timeout: 60_000 });
  return (JSON.parse(stdout) as string[]).map((b) => Buffer.from(b, 'base64'));
}

/** The INBOX once it holds at least `count` messages. */
export function inboxWith(tg: Pick<TestGateway, 'port'>, account: { address: string; password: string }, count = 1) {
  return waitFor(`${count} message(s) for ${account.address}`, async () => {
    const got = await inbox(tg, account);
    return got.length >= count && got;
  });
}

/** Polls `probe` until it gives a value (not undefined/false), or throws after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every queue entry (what `admin queue list` shows). */
export async function queueEntries(tg: Pick<TestGateway, 'storage'>): Promise<QueueEntry[]> {
  const entries: QueueEntry[] = [];
  for await (const e of tg.storage.queue.list()) entries.push(e);
  return entries;
}

/** The queue entry holding `address`, once that recipient is no longer pending. */
export function settledEntry(tg: Pick<TestGateway, 'storage'>, address: string): Promise<QueueEntry> {
  return waitFor(`the queue to settle ${address}`, async () => {
    const entry = (await queueEntries(tg)).find((e) => e.recipients.some((r) => r.address === address));
    const status = entry?.recipients.find((r) => r.address === address)?.status;
    return (status === 'delivered' || status === 'failed') && entry;
  });
}

export const statusOf = (entry: QueueEntry, address: string) =>
  entry.recipients.find((r) => r.address === address)?.status;

/** What the proxy does to its next connection at the end of DATA (the final dot). */
export type CutMode = 'before-dot' | 'after-dot';

/**
 * A TCP proxy in front of an SMTP server. Armed, it cuts the connection at the next end of DATA: `before-dot`
 * withholds the final dot (the server never takes the message), `after-dot` passes it on and cuts before the
 * server's 250 comes back (the server has the message, the client cannot know: RFC 5321 §6.1's duplicate).
 */
export async function startCuttingProxy(targetPort: number) {
  let armed: CutMode | undefined;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    let cut = false;
    let tail = '';
    upstream.on('data', (d) => {
      if (!cut) client.write(d);
    });
    upstream.on('end', () => client.end());
    client.on('end', () => upstream.end());
    client.on('data', (chunk: Buffer) => {
      if (cut) return;
      const text = tail + chunk.toString('latin1');
      tail = text.slice(-4);
      const at = armed ? text.indexOf('\r\n.\r\n') : -1;
      if (at < 0) return void upstream.write(chunk);
      // the transport may hold a session open across messages: the cut is at the next end of DATA on any
      const mode = armed;
      armed = undefined;
      cut = true;
      const offset = text.length - chunk.length;
      upstream.write(chunk.subarray(0, Math.max(0, (mode === 'after-dot' ? at + 5 : at + 2) - offset)));
      client.destroy();
      // after-dot: let the server read the dot and answer (into the void) before it sees the close
      if (mode === 'after-dot') upstream.once('data', () => upstream.destroy());
      else upstream.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const proxy = {
    port: (server.address() as AddressInfo).port,
    arm(mode: CutMode) {
      armed = mode;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  after(() => proxy.close());
  return proxy;
}

/** A message with CRLF line ends, Date and Message-ID included. */
export function message(from: string, to: readonly string[], subject: string): string {
  return (
    `From: ${from}\r\nTo: ${to.join(', ')}\r\nSubject: ${subject}\r\n` +
    `Date: Wed, 02 Dec 2026 14:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}.${Date.now()}@ours.test>\r\n` +
    `\r\nHello from the end-to-end test.\r\n`
  );
}
