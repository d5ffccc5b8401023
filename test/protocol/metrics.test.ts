/**
 * The gateway's metrics over real sessions: a whole gateway whose EMF lines go to a captured sink, driven by
 * Python's smtplib and imaplib. After each step the metrics are flushed and the EMF documents parsed, as
 * CloudWatch Logs would: a message delivered on the MX counts MessagesAccepted{Listener=mx}, a refused relay
 * MessagesRejected{Reason=relay-denied}, wrong passwords LoginsFailed per protocol, and connections
 * ConnectionsOpened per protocol.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createEmfMetrics, METRICS_NAMESPACE } from '../../lib/core/metrics.ts';
import { simpleMessage, startMxGateway } from './smtp-helpers.ts';

const run = promisify(execFile);

interface EmfDoc {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [member: string]: unknown;
}

const lines: string[] = [];
const metrics = createEmfMetrics({ sink: (line) => lines.push(line) });
const tg = await startMxGateway({ metrics });

/** Flushes and returns the value of `name` in the document with exactly these dimensions (0 when absent). */
function flushed(name: string, dimensions: Record<string, string>): number {
  lines.length = 0;
  metrics.flush();
  const docs = lines.map((l) => JSON.parse(l) as EmfDoc);
  const doc = docs.find((d) => {
    const [directive] = d._aws.CloudWatchMetrics;
    if (directive.Namespace !== METRICS_NAMESPACE || !directive.Metrics.some((m) => m.Name === name)) return false;
    const keys = directive.Dimensions[0];
    return keys.length === Object.keys(dimensions).length && keys.every((k) => d[k] === dimensions[k]);
  });
  return (doc?.[name] as number | undefined) ?? 0;
}

async function python(script: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(
    'python3',
    ['-c', `import json, sys, smtplib, imaplib\nout = {}\n${script}\nprint(json.dumps(out))`, ...args],
    {
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('gateway metrics (EMF) over real sessions', () => {
  before(async () => {
    await tg.addAccount('bob@ours.test', 'bob-secret');
    metrics.flush(); // start from nothing
  });

  it('a message delivered on the MX counts MessagesAccepted{Listener=mx}, its connection ConnectionsOpened{smtp}', async () => {
    const out = await python(
      `s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.example', timeout=30)
out['refused'] = s.sendmail('alice@sender.test', ['bob@ours.test'], sys.argv[2].encode())
s.quit()`,
      String(tg.port('smtp')),
      simpleMessage(),
    );
    assert.deepEqual(out.refused, {});
    assert.equal((await tg.messages('bob@ours.test')).length, 1);
    lines.length = 0;
    metrics.flush();
    const docs = lines.map((l) => JSON.parse(l) as EmfDoc);
    const value = (name: string, key: string, v: string) => docs.find((d) => d[key] === v && name in d)?.[name];
    assert.equal(value('MessagesAccepted', 'Listener', 'mx'), 1);
    assert.equal(value('ConnectionsOpened', 'Protocol', 'smtp'), 1);
    assert.equal(value('Connections', 'Protocol', 'imap'), 0, 'every protocol reports its open connections');
  });

  it('a refused relay counts MessagesRejected{Reason=relay-denied}', async () => {
    const out = await python(
      `s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.example', timeout=30)
s.ehlo()
s.mail('alice@sender.test')
out['rcpt'] = s.rcpt('someone@elsewhere.example')[0]
s.quit()`,
      String(tg.port('smtp')),
    );
    assert.equal(out.rcpt, 554);
    assert.equal(flushed('MessagesRejected', { Reason: 'relay-denied' }), 1);
    assert.equal(flushed('MessagesAccepted', { Listener: 'mx' }), 0, 'counted anew after each flush');
  });

  it('a wrong IMAP password counts LoginsFailed{Protocol=imap}; a right one does not', async () => {
    const out = await python(
      `m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
try:
    m.login('bob@ours.test', 'wrong')
    out['wrong'] = 'OK'
except imaplib.IMAP4.error:
    out['wrong'] = 'NO'
out['right'] = m.login('bob@ours.test', 'bob-secret')[0]
m.logout()`,
      String(tg.port('imap')),
    );
    assert.deepEqual(out, { wrong: 'NO', right: 'OK' });
    assert.equal(flushed('LoginsFailed', { Protocol: 'imap' }), 1);
  });

  it('a wrong submission password counts LoginsFailed{Protocol=submission}', async () => {
    const out = await python(
      `s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.example', timeout=30)
s.ehlo()
try:
    # one AUTH PLAIN (login() would go on to try LOGIN after a 535: two attempts)
    s.auth('PLAIN', lambda challenge=None: '\\0bob@ours.test\\0wrong')
except smtplib.SMTPAuthenticationError as e:
    out['code'] = e.smtp_code
s.quit()`,
      String(tg.port('submission')),
    );
    assert.equal(out.code, 535);
    assert.equal(flushed('LoginsFailed', { Protocol: 'submission' }), 1);
  });
});
