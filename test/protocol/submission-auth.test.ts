/**
 * Submission (587 STARTTLS, 465 implicit TLS) authentication, with Python's smtplib over real TCP and TLS:
 * AUTH only inside TLS (RFC 4954 §4, RFC 8314 §3), PLAIN and LOGIN on both ports, wrong passwords throttled by
 * the authenticator POP3 and IMAP share, and no transaction (so no relaying) before AUTH on any port.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RawSmtp } from './smtp-helpers.ts';
import { BOB, python, startSubmissionGateway } from './submission-support.ts';

const tls = await startSubmissionGateway({ env: { POSTERN_ALLOW_PLAINTEXT_AUTH: '0' } });
const port = (name: string) => String(tls.tg.port(name));

describe('AUTH needs TLS unless plaintext is allowed', () => {
  test('587 before STARTTLS: no AUTH in EHLO, AUTH refused 538 5.7.11 (RFC 4954 §4); inside TLS it works', async () => {
    const out = await python(
      `
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo('client.example')
out['plainFeatures'] = list(s.esmtp_features.keys())
out['authPlain'] = reply(s.docmd('AUTH', 'PLAIN ' + base64.b64encode(b'\\0bob@ours.test\\0bob-secret').decode()))
s.starttls(context=ctx)
s.ehlo('client.example')
out['tlsAuth'] = s.esmtp_features.get('auth')
out['login'] = reply(s.login(sys.argv[2], sys.argv[3]))
s.quit()
`,
      port('submission'),
      BOB.address,
      BOB.password,
    );
    const features = out.plainFeatures as string[];
    assert.ok(features.includes('starttls'));
    assert.ok(!features.includes('auth'), `no AUTH before TLS: ${features}`);
    assert.deepEqual(out.authPlain, [538, '5.7.11 Encryption required for requested authentication mechanism']);
    assert.equal((out.tlsAuth as string).trim(), 'PLAIN LOGIN');
    assert.equal((out.login as [number, string])[0], 235);
  });

  for (const mechanism of ['PLAIN', 'LOGIN']) {
    test(`465 implicit TLS (RFC 8314): AUTH ${mechanism} works`, async () => {
      const out = await python(
        `
s = smtplib.SMTP_SSL('127.0.0.1', int(sys.argv[1]), context=ctx)
s.ehlo('client.example')
out['auth'] = s.esmtp_features.get('auth')
s.user, s.password = sys.argv[2], sys.argv[3]
mech = sys.argv[4]
out['login'] = reply(s.auth(mech, s.auth_plain if mech == 'PLAIN' else s.auth_login, initial_response_ok=False))
s.quit()
`,
        port('submissions'),
        BOB.address,
        BOB.password,
        mechanism,
      );
      assert.equal((out.auth as string).trim(), 'PLAIN LOGIN');
      assert.equal((out.login as [number, string])[0], 235);
    });
  }
});

describe('no transaction before AUTH', () => {
  for (const name of ['submission', 'submissions']) {
    test(`${name}: MAIL before AUTH is 530 5.7.0 (RFC 4954 §6), and so nothing can be relayed`, async () => {
      const out = await python(
        `
p = int(sys.argv[1])
s = smtplib.SMTP_SSL('127.0.0.1', p, context=ctx) if sys.argv[2] == 'submissions' else smtplib.SMTP('127.0.0.1', p)
s.ehlo('client.example')
if sys.argv[2] == 'submission':
    s.starttls(context=ctx)
    s.ehlo('client.example')
out['mail'] = reply(s.mail('bob@ours.test'))
out['rcpt'] = reply(s.rcpt('victim@remote.example'))
s.quit()
`,
        port(name),
        name,
      );
      assert.deepEqual(out.mail, [530, '5.7.0 Authentication required']);
      assert.equal((out.rcpt as [number, string])[0], 530);
      assert.equal(tls.queue.all().length, 0);
    });
  }

  test('25: relaying stays denied, 554 5.7.1, and AUTH is not offered', async () => {
    const { c } = await RawSmtp.greet(tls.tg.port('smtp'));
    const ehlo = await c.cmd('EHLO client.example');
    assert.ok(!ehlo.lines.some((l) => l.slice(4).startsWith('AUTH')), ehlo.text);
    assert.equal((await c.cmd('MAIL FROM:<bob@ours.test>')).code, 250);
    const rcpt = await c.cmd('RCPT TO:<victim@remote.example>');
    assert.equal(rcpt.code, 554);
    assert.match(rcpt.text, /^5\.7\.1 /);
    c.close();
  });
});

describe('wrong passwords', () => {
  test('535 5.7.8, then throttled (454 4.7.0) even for the right password; POP3 shares the throttle', async () => {
    const throttled = await startSubmissionGateway({
      env: { POSTERN_AUTH_MAX_FAILURES_PAIR: '2', POSTERN_AUTH_BACKOFF_MS: '60000' },
    });
    const out = await python(
      `
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo('client.example')
plain = lambda pw: 'PLAIN ' + base64.b64encode(('\\0bob@ours.test\\0' + pw).encode()).decode()
out['tries'] = [reply(s.docmd('AUTH', plain(pw))) for pw in ['wrong1', 'wrong2', sys.argv[2]]]
s.quit()
import poplib
p = poplib.POP3('127.0.0.1', int(sys.argv[3]))
p.user('bob@ours.test')
try:
    out['pop3'] = p.pass_(sys.argv[2]).decode()
except poplib.error_proto as e:
    out['pop3'] = str(e)
`,
      String(throttled.tg.port('submission')),
      BOB.password,
      String(throttled.tg.port('pop3')),
    );
    const [first, second, right] = out.tries as [number, string][];
    assert.deepEqual(first, [535, '5.7.8 Authentication credentials invalid']);
    assert.equal(second[0], 535);
    assert.deepEqual(right, [454, '4.7.0 Temporary authentication failure, try again later']);
    assert.match(out.pop3 as string, /-ERR/, 'the failures on submission also hold back POP3 from that address');
  });

  test('PLAIN with an authorization identity other than the user is refused (no proxy login, RFC 4616 §2)', async () => {
    const out = await python(
      `
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo('client.example')
s.starttls(context=ctx)
s.ehlo('client.example')
out['r'] = reply(s.docmd('AUTH', 'PLAIN ' + base64.b64encode(b'carol@ours.test\\0bob@ours.test\\0bob-secret').decode()))
s.quit()
`,
      port('submission'),
    );
    assert.equal((out.r as [number, string])[0], 535);
  });
});
