/**
 * `POSTERN_GATEWAYS=2 npm start`: two gateway processes on one store, each on its own ports (ready block and
 * emulator.json), and push across them through the same path as AWS (changes stream → notify relay → UDP
 * notice → the other gateway's IDLE sessions). Python's imaplib idles on gateway 1 while Python's smtplib
 * submits through gateway 2, then imaplib on gateway 2 sets a flag. Needs java (DynamoDB Local) and python3.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { PORT_ENV } from '../../lib/core/config.ts';
import { freePort } from '../../local/ports.ts';
import { readEmulatorState } from '../../local/state.ts';
import { killEmulatorGroups, startEmulatorProcess } from '../support/emulatorProcess.ts';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'postern-gateways-'));
const children = new Set<ChildProcess>();
after(() => {
  killEmulatorGroups(children);
  rmSync(dataDir, { recursive: true, force: true });
});

/** Hang guards, not timed assertions: start-up on a loaded 2-core machine, and a push that never comes. */
const READY_WITHIN_MS = 180_000;
const PUSH_GUARD_MS = 20_000;

const startEmulator = (env: Record<string, string>) =>
  startEmulatorProcess({
    env: { POSTERN_DATA_DIR: dataDir, ...env },
    readyText: 'Postern is ready',
    withinMs: READY_WITHIN_MS,
    children,
  });

/** imaplib idling on INBOX: prints `IDLING`, then every untagged line it hears after its arrival time, flushed. */
const IDLE_SCRIPT = `
import imaplib, sys, time
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
m.select('INBOX')
m.send(b'i1 IDLE\\r\\n')
assert m.readline().startswith(b'+')
print('IDLING', flush=True)
while True:
    line = m.readline()
    if not line:
        break
    print('%.6f %s' % (time.time(), line.decode().strip()), flush=True)
`;

test('two gateways on one store: IDLE on gateway 1 hears mail submitted and flags set through gateway 2', async () => {
  const env: Record<string, string> = { POSTERN_GATEWAYS: '2' };
  for (const name of Object.values(PORT_ENV)) env[name] = String(await freePort());
  const emulator = await startEmulator(env);

  const state = readEmulatorState(dataDir);
  assert.ok(state?.gateways, 'emulator.json lists the gateways');
  assert.equal(state.gateways.length, 2);
  const [g1, g2] = state.gateways;
  assert.equal(g1.ports.imap, Number(env.POSTERN_IMAP_PORT), 'gateway 1 on the configured ports');
  assert.notEqual(g2.pid, g1.pid);
  for (const name of Object.keys(PORT_ENV)) {
    const key = name as keyof typeof g1.ports;
    assert.ok(g2.ports[key] > 0 && g2.ports[key] !== g1.ports[key], `gateway 2 has its own ${name} port`);
    assert.ok(
      emulator.output().includes(`127.0.0.1:${g2.ports[key]}`),
      `the ready block shows gateway 2's ${name} port`,
    );
  }
  const demo = JSON.parse(readFileSync(join(dataDir, 'demo-account.json'), 'utf8')) as {
    address: string;
    password: string;
  };

  const idler = spawn('python3', ['-c', IDLE_SCRIPT, String(g1.ports.imap), demo.address, demo.password], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(idler);
  const lines = createInterface({ input: idler.stdout! });
  // each line carries the idler's clock (seconds): the same clock the other client prints its answer's time with
  const waiters: { match: RegExp; resolve: (at: number) => void }[] = [];
  lines.on('line', (raw) => {
    const [stamp, ...rest] = raw.split(' ');
    const line = rest.length > 0 ? rest.join(' ') : raw;
    const at = rest.length > 0 ? Number(stamp) * 1000 : 0;
    for (const w of [...waiters]) {
      if (w.match.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(at);
      }
    }
  });
  const heard = (match: RegExp, what: string) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway 1's IDLE never heard ${what}`)), PUSH_GUARD_MS);
      const heardAt = (at: number) => {
        clearTimeout(timer);
        resolve(at);
      };
      waiters.push({ match, resolve: heardAt });
    });
  await heard(/^IDLING$/, 'its own continuation');

  const exists = heard(/^\* 1 EXISTS$/, 'the new message');
  const sent = await run('python3', [
    '-c',
    `import smtplib, sys, time
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.login(sys.argv[2], sys.argv[3])
s.sendmail(sys.argv[2], [sys.argv[2]], b'From: ' + sys.argv[2].encode() + b'\\r\\nTo: ' + sys.argv[2].encode() + b'\\r\\nSubject: push\\r\\n\\r\\nacross tasks\\r\\n')
print('%.6f' % time.time(), flush=True)
s.quit()`,
    String(g2.ports.submission),
    demo.address,
    demo.password,
  ]);
  const accepted = Number(sent.stdout.trim()) * 1000; // when the 250 came: the message was stored before it
  const pushDelayMs = (await exists) - accepted;
  process.stdout.write(`# push delay, SMTP 250 on gateway 2 → EXISTS on gateway 1: ${pushDelayMs.toFixed(1)} ms\n`);

  const flagged = heard(/^\* 1 FETCH \(FLAGS \([^)]*\\Flagged/, 'the flag change');
  const storedAt = await run('python3', [
    '-c',
    `import imaplib, sys, time
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login(sys.argv[2], sys.argv[3])
m.select('INBOX')
typ, _ = m.store('1', '+FLAGS', '(\\\\Flagged)')
assert typ == 'OK'
print('%.6f' % time.time(), flush=True)
m.logout()`,
    String(g2.ports.imap),
    demo.address,
    demo.password,
  ]);
  const stored = Number(storedAt.stdout.trim()) * 1000; // when STORE's OK came
  const flagDelayMs = (await flagged) - stored;
  process.stdout.write(`# push delay, STORE on gateway 2 → FETCH on gateway 1: ${flagDelayMs.toFixed(1)} ms\n`);
  idler.kill();
  emulator.child.kill('SIGINT');
});
