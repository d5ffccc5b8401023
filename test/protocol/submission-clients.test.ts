/**
 * Submission with clients nobody here wrote, over TLS (this gateway refuses AUTH before TLS): swaks, msmtp
 * (Debian) and nodemailer, each on 587 with STARTTLS and on 465 with implicit TLS, sending to a local mailbox
 * and a remote address; the local copy must be the text as sent (plus our trace fields) and the remote one
 * exactly one queue entry. Python smtplib is in submission-auth and submission-delivery.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { splitDelivered } from './smtp-helpers.ts';
import { BOB, CAROL, message, startSubmissionGateway } from './submission-support.ts';

const run = promisify(execFile);

/** swaks as bob (server, port, AUTH and envelope); `extra` adds TLS and data options. */
function swaks(port: number, auth: string, to: string, extra: string[]) {
  const login = ['--auth', auth, '--auth-user', BOB.address, '--auth-password', BOB.password];
  const envelope = ['--from', BOB.address, '--to', to, '--timeout', '20'];
  return run('swaks', ['--server', '127.0.0.1', '--port', String(port), ...login, ...envelope, ...extra]);
}
const dir = mkdtempSync(join(tmpdir(), 'postern-submission-clients-'));
const { tg, queue } = await startSubmissionGateway({ env: { POSTERN_ALLOW_PLAINTEXT_AUTH: '0' } });
const PORTS = { starttls: tg.port('submission'), implicit: tg.port('submissions') };

/** carol got the text once (our fields aside), and the remote address is in exactly one queue entry. */
async function assertDelivered(marker: string, remote: string, text?: string) {
  const copies = (await tg.messages(CAROL.address)).filter((m) => m.bytes.includes(marker));
  assert.equal(copies.length, 1, `${copies.length} copies of ${marker}`);
  // swaks ends the text with one more CRLF of its own
  if (text)
    assert.equal(
      splitDelivered(copies[0].bytes, copies[0].meta)
        .text.toString()
        .replace(/\r\n\r\n$/, '\r\n'),
      text,
    );
  const entries = queue.all().filter((e) => e.recipients.some((r) => r.address === remote));
  assert.equal(entries.length, 1, `${entries.length} queue entries for ${remote}`);
  assert.equal(entries[0].mailFrom, BOB.address);
  return copies[0];
}

describe('swaks', () => {
  for (const [mode, flag] of [
    ['starttls', '--tls'],
    ['implicit', '--tls-on-connect'],
  ] as const) {
    for (const auth of ['PLAIN', 'LOGIN']) {
      test(`${mode} TLS, AUTH ${auth}`, async () => {
        const marker = `swaks-${mode}-${auth}`;
        const remote = `${marker}@remote.example`;
        const text = message({ subject: marker, date: true, messageId: `${marker}@ours.test` });
        const file = join(dir, `${marker}.eml`);
        writeFileSync(file, text);
        const { stdout } = await swaks(PORTS[mode], auth, `${CAROL.address},${remote}`, [
          flag,
          '--data',
          file,
          '--helo',
          'swaks.example',
        ]);
        assert.match(stdout, /<~ {1,2}235 /);
        assert.match(stdout, /<~ {1,2}250 2\.0\.0 OK: message accepted/);
        await assertDelivered(marker, remote, text);
      });
    }
  }

  test('AUTH before STARTTLS is refused, and swaks reports it', async () => {
    const result = await swaks(PORTS.starttls, 'PLAIN', 'nope@remote.example', []).then(
      () => undefined,
      (err: { stdout: string }) => err.stdout,
    );
    assert.ok(result, 'swaks must fail');
    assert.doesNotMatch(result, /250 2\.0\.0 OK/);
    assert.equal(queue.all().filter((e) => e.recipients[0].address === 'nope@remote.example').length, 0);
  });
});

describe('msmtp', () => {
  for (const mode of ['starttls', 'implicit'] as const) {
    test(`${mode} TLS, AUTH PLAIN; Date and Message-ID added when missing`, async () => {
      const marker = `msmtp-${mode}`;
      const remote = `${marker}@remote.example`;
      const text = message({ subject: marker });
      const args = [
        '--host=127.0.0.1',
        `--port=${PORTS[mode]}`,
        '--auth=plain',
        `--user=${BOB.address}`,
        `--passwordeval=echo ${BOB.password}`,
        '--tls=on',
        '--tls-certcheck=off',
        `--tls-starttls=${mode === 'starttls' ? 'on' : 'off'}`,
        // msmtp would add Date and Message-ID itself; off, the MSA must (RFC 6409 §8.2, §8.3)
        '--set-date-header=off',
        '--set-msgid-header=off',
        `--from=${BOB.address}`,
        '--domain=msmtp.example',
        CAROL.address,
        remote,
      ];
      const child = execFile('msmtp', args);
      child.stdin!.end(text);
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 0);
      const copy = await assertDelivered(marker, remote);
      assert.match(copy.meta.headerPrefix, /\r\nDate: .+\r\nMessage-ID: <[0-9a-f]{32}@mx\.test\.example>\r\n$/);
    });
  }
});

describe('nodemailer', () => {
  for (const mode of ['starttls', 'implicit'] as const) {
    test(`${mode} TLS, AUTH LOGIN; envelope and header built by nodemailer`, async () => {
      const marker = `nodemailer-${mode}`;
      const remote = `${marker}@remote.example`;
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: PORTS[mode],
        secure: mode === 'implicit',
        requireTLS: mode === 'starttls',
        auth: { user: BOB.address, pass: BOB.password },
        authMethod: 'LOGIN',
        tls: { rejectUnauthorized: false },
        name: 'nodemailer.example',
      });
      const info = await transport.sendMail({
        from: `Bob <${BOB.address}>`,
        to: [CAROL.address, remote],
        subject: marker,
        text: 'Hello from nodemailer.',
      });
      transport.close();
      assert.match(info.response, /^250 2\.0\.0 OK/);
      const copy = await assertDelivered(marker, remote);
      assert.equal(copy.meta.headerPrefix, 'Return-Path: <bob@ours.test>\r\nDelivered-To: carol@ours.test\r\n');
    });

    test(`${mode}: a From of someone else is refused 553 5.7.1`, async () => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: PORTS[mode],
        secure: mode === 'implicit',
        auth: { user: BOB.address, pass: BOB.password },
        tls: { rejectUnauthorized: false },
      });
      await assert.rejects(
        transport.sendMail({
          envelope: { from: BOB.address, to: ['forged-nm@remote.example'] },
          from: CAROL.address,
          subject: 'forged',
          text: 'x',
        }),
        (err: { responseCode?: number; response?: string }) =>
          err.responseCode === 553 && /5\.7\.1/.test(err.response ?? ''),
      );
      transport.close();
    });
  }
});
