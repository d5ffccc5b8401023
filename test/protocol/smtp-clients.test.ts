/**
 * The MX with SMTP clients nobody here wrote: Python's smtplib, swaks, curl (smtp://) and nodemailer. Each
 * delivered copy is checked byte for byte against what was sent (plus our trace header lines).
 * Needs the Debian packages swaks and curl, and python3.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { sendMail, simpleMessage, splitDelivered, startMxGateway } from './smtp-helpers.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'postern-smtp-clients-'));
const tg = await startMxGateway();
const port = tg.port('smtp');
for (const a of ['bob@ours.test', 'carol@ours.test', 'dave@ours.test', 'jürgen@ours.test'])
  await tg.addAccount(a, 'pw');
await tg.addAccount('full@ours.test', 'pw', 1);

/** The only copy in the mailbox whose bytes contain `marker`; its text must equal `expected`. */
async function assertDelivered(who: string, marker: string, expected: Buffer | string, mailbox = 'INBOX') {
  const copies = (await tg.messages(who, mailbox)).filter((m) => m.bytes.includes(marker));
  assert.equal(copies.length, 1, `${who}: ${copies.length} copies of ${marker}`);
  const { text, ours } = splitDelivered(copies[0].bytes, copies[0].meta);
  assert.equal(text.toString('utf8'), Buffer.isBuffer(expected) ? expected.toString('utf8') : expected);
  assert.match(ours, new RegExp(`Delivered-To: ${who}\\r\\n`));
  return copies[0];
}

const DOTS = '.starts with a dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n';

describe('Python smtplib', () => {
  const script = (body: string) => `
import smtplib, sys, json
port = int(sys.argv[1])
out = {}
${body}
print(json.dumps(out))
`;

  test('single and multiple recipients, pipelined, 8BITMIME and SMTPUTF8, lines with dots', async () => {
    const plain = simpleMessage({ subject: 'python plain', body: DOTS });
    const utf8 = simpleMessage({
      from: 'jürgen@sender.test',
      to: 'jürgen@ours.test',
      subject: 'python ünïcode',
      extra: 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n',
      body: 'Grüße ☕\r\n',
    });
    writeFileSync(join(dir, 'py-plain.eml'), plain);
    writeFileSync(join(dir, 'py-utf8.eml'), utf8);
    const { stdout } = await run('python3', [
      '-c',
      script(`
s = smtplib.SMTP('127.0.0.1', port, local_hostname='py.example')
s.ehlo()
out['features'] = sorted(s.esmtp_features.keys())
out['one'] = s.sendmail('alice@sender.test', ['bob@ours.test'], open(sys.argv[2], 'rb').read())
out['many'] = s.sendmail('alice@sender.test', ['carol@ours.test', 'dave@ours.test'], open(sys.argv[2], 'rb').read().replace(b'python plain', b'python many'))
out['utf8'] = s.sendmail('jürgen@sender.test', ['jürgen@ours.test'], open(sys.argv[3], 'rb').read(), mail_options=['SMTPUTF8', 'BODY=8BITMIME'])
s.quit()
`),
      String(port),
      join(dir, 'py-plain.eml'),
      join(dir, 'py-utf8.eml'),
    ]);
    const out = JSON.parse(stdout);
    for (const f of ['pipelining', 'size', '8bitmime', 'smtputf8', 'starttls', 'enhancedstatuscodes', 'dsn'])
      assert.ok(out.features.includes(f), f);
    assert.deepEqual([out.one, out.many, out.utf8], [{}, {}, {}]);
    await assertDelivered('bob@ours.test', 'python plain', plain);
    await assertDelivered('carol@ours.test', 'python many', plain.replace('python plain', 'python many'));
    await assertDelivered('dave@ours.test', 'python many', plain.replace('python plain', 'python many'));
    await assertDelivered('jürgen@ours.test', 'python ünïcode', utf8);
  });

  test('the errors, as smtplib sees them', async () => {
    // the account is under quota until its first message is in
    assert.equal(
      (await sendMail(port, { from: 'alice@sender.test', to: ['full@ours.test'], data: simpleMessage() })).code,
      250,
    );
    const { stdout } = await run('python3', [
      '-c',
      script(`
def rcpt(addr):
    s = smtplib.SMTP('127.0.0.1', port, local_hostname='py.example')
    s.ehlo(); s.mail('alice@sender.test')
    code, msg = s.rcpt(addr)
    s.quit()
    return [code, msg.decode()]
out['unknown'] = rcpt('nobody@ours.test')
out['relay'] = rcpt('someone@elsewhere.test')
out['percent'] = rcpt('someone%elsewhere.test@ours.test')
out['quota'] = rcpt('full@ours.test')
s = smtplib.SMTP('127.0.0.1', port, local_hostname='py.example')
s.ehlo()
out['unknown_cmd'] = list(s.docmd('XYZZY')); out['unknown_cmd'][1] = out['unknown_cmd'][1].decode()
out['seq'] = list(s.docmd('DATA')); out['seq'][1] = out['seq'][1].decode()
out['args'] = list(s.docmd('MAIL', 'FROM:nobrackets')); out['args'][1] = out['args'][1].decode()
try:
    s.sendmail('alice@sender.test', ['bob@ours.test'], b'Subject: x\\r\\n\\r\\n' + b'Received: x\\r\\n' * 0 + b'y' * 100)
    out['ok'] = True
except Exception as e:
    out['ok'] = repr(e)
s.quit()
`),
      String(port),
    ]);
    const out = JSON.parse(stdout);
    assert.equal(out.unknown[0], 550);
    assert.match(out.unknown[1], /^5\.1\.1 /);
    assert.equal(out.relay[0], 554);
    assert.match(out.relay[1], /^5\.7\.1 /);
    assert.equal(out.percent[0], 550);
    assert.equal(out.quota[0], 452);
    assert.match(out.quota[1], /^4\.2\.2 /);
    assert.equal(out.unknown_cmd[0], 500);
    assert.equal(out.seq[0], 503);
    assert.equal(out.args[0], 501);
    assert.equal(out.ok, true);
  });
});

describe('swaks', () => {
  test('multiple recipients with --pipeline, and STARTTLS', async () => {
    // swaks ends the text with CRLF itself before the final dot, so the file leaves out the last CRLF
    const text = simpleMessage({ subject: 'swaks mail', body: DOTS });
    const file = join(dir, 'swaks.eml');
    writeFileSync(file, text.slice(0, -2));
    const { stdout } = await run('swaks', [
      '--server',
      `127.0.0.1:${port}`,
      '--helo',
      'swaks.example',
      '--from',
      'alice@sender.test',
      '--to',
      'bob@ours.test,carol@ours.test',
      '--data',
      `@${file}`,
      '--pipeline',
    ]);
    assert.match(stdout, /<\*\* {0,2}250 |<- {1,2}250 2\.0\.0 OK/);
    await assertDelivered('bob@ours.test', 'swaks mail', text);
    await assertDelivered('carol@ours.test', 'swaks mail', text);

    const tlsText = simpleMessage({ subject: 'swaks tls' });
    writeFileSync(file, tlsText.slice(0, -2));
    const tls = await run('swaks', [
      '--server',
      `127.0.0.1:${port}`,
      '--helo',
      'swaks.example',
      '--from',
      'alice@sender.test',
      '--to',
      'dave@ours.test',
      '--data',
      `@${file}`,
      '--tls',
    ]);
    assert.match(tls.stdout, /TLS started/);
    const copy = await assertDelivered('dave@ours.test', 'swaks tls', tlsText);
    assert.match(copy.bytes.toString(), /with ESMTPS id/);
  });

  test('refusals show up in swaks output with their enhanced codes', async () => {
    // swaks exits non-zero on a refusal; what it printed is what counts
    const rcptOnly = (to: string) =>
      run('swaks', [
        '--server',
        `127.0.0.1:${port}`,
        '--from',
        'alice@sender.test',
        '--to',
        to,
        '--quit-after',
        'RCPT',
      ]).catch((e) => e);
    assert.match(String((await rcptOnly('nobody@ours.test')).stdout), /550 5\.1\.1 /);
    assert.match(String((await rcptOnly('x@elsewhere.test')).stdout), /554 5\.7\.1 /);
  });
});

describe('curl smtp://', () => {
  test('uploads a message with dot lines to several recipients', async () => {
    const text = simpleMessage({ subject: 'curl mail', body: DOTS });
    const file = join(dir, 'curl.eml');
    writeFileSync(file, text);
    await run('curl', [
      '--silent',
      '--show-error',
      `smtp://127.0.0.1:${port}/curl.example`,
      '--mail-from',
      'alice@sender.test',
      '--mail-rcpt',
      'bob@ours.test',
      '--mail-rcpt',
      'dave@ours.test',
      '--upload-file',
      file,
    ]);
    await assertDelivered('bob@ours.test', 'curl mail', text);
    await assertDelivered('dave@ours.test', 'curl mail', text);
  });

  test('a relay attempt fails the upload', async () => {
    const file = join(dir, 'curl-relay.eml');
    writeFileSync(file, simpleMessage());
    const res = await run('curl', [
      '--silent',
      '--show-error',
      `smtp://127.0.0.1:${port}`,
      '--mail-from',
      'a@sender.test',
      '--mail-rcpt',
      'x@elsewhere.test',
      '--upload-file',
      file,
    ]).catch((e) => e);
    assert.match(String(res.stderr), /RCPT failed: 554/);
  });
});

describe('nodemailer', () => {
  test('raw message over STARTTLS to several recipients, and an SMTPUTF8 address', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      tls: { rejectUnauthorized: false },
      name: 'nm.example',
    });
    const text = simpleMessage({ subject: 'nodemailer raw', body: DOTS });
    const info = await transport.sendMail({
      envelope: { from: 'alice@sender.test', to: ['bob@ours.test', 'carol@ours.test'] },
      raw: text,
    });
    assert.match(info.response, /^250 2\.0\.0 /);
    await assertDelivered('bob@ours.test', 'nodemailer raw', text);
    const copy = await assertDelivered('carol@ours.test', 'nodemailer raw', text);
    assert.match(copy.bytes.toString(), /with ESMTPS id/);

    const utf8 = simpleMessage({
      to: 'jürgen@ours.test',
      subject: 'nodemailer utf8',
      body: 'Ünïcode ✓\r\n',
      extra: 'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n',
    });
    await transport.sendMail({ envelope: { from: 'alice@sender.test', to: ['jürgen@ours.test'] }, raw: utf8 });
    await assertDelivered('jürgen@ours.test', 'nodemailer utf8', utf8);

    await assert.rejects(
      transport.sendMail({ envelope: { from: 'alice@sender.test', to: ['nobody@ours.test'] }, raw: text }),
      (err: { responseCode?: number; response?: string }) =>
        err.responseCode === 550 && /5\.1\.1/.test(err.response ?? ''),
    );
    transport.close();
  });
});
