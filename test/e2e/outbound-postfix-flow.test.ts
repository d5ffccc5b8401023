/**
 * Debian's Postfix as the smarthost at the end of the whole outbound path: Python smtplib submits on 465
 * (implicit TLS) with DSN parameters, the queue's deliver step signs and relays to Postfix, which delivers
 * into a Maildir; python3-dkim verifies both signatures on the copy Postfix delivered (its own trace fields on
 * top). Skipped when Postfix cannot run here (not installed, not root).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseWithPython } from '../support/dsnCheck.ts';
import { type Postfix, startPostfix } from '../support/postfix.ts';
import { verifyWithDkimpy } from '../support/pythonDkim.ts';
import { inboxWith, message, settledEntry, startOutboundGateway, statusOf, submit } from './outbound-flow-support.ts';

const BOB = { address: 'bob@ours.test', password: 'bob-secret' };
const postfix: Postfix | undefined = await startPostfix();
after(() => postfix?.stop());

const { tg, dkimRecords } = await startOutboundGateway({
  POSTERN_OUTBOUND_TRANSPORT: 'smarthost',
  POSTERN_SMARTHOST: `127.0.0.1:${postfix?.port ?? 1}`,
  POSTERN_SMARTHOST_TLS: 'none',
});
await tg.addAccount(BOB.address, BOB.password);

describe('outbound end to end: Postfix as the smarthost', { skip: !postfix && 'postfix not available' }, () => {
  it('465 with RET=HDRS and NOTIFY: Postfix delivers the signed message, python3-dkim verifies it', async () => {
    const to = ['ok@remote.test', 'hard@remote.test'];
    const refused = await submit(tg, BOB, BOB.address, to, message(`Bob <${BOB.address}>`, to, 'via postfix'), {
      implicitTls: true,
      mail: ['RET=HDRS', 'ENVID=e2e-postfix'],
      rcpt: ['NOTIFY=FAILURE'],
    });
    assert.deepEqual(refused, {});
    const entry = await settledEntry(tg, 'hard@remote.test');
    await settledEntry(tg, 'ok@remote.test');
    assert.equal(statusOf(entry, 'hard@remote.test'), 'failed');
    const [copy] = await postfix!.delivered('ok', 1, 20_000);
    assert.ok(copy, `delivered into the Maildir; postfix log:\n${postfix!.log()}`);
    assert.match(copy.toString('latin1'), /^Return-Path: <bob@ours\.test>\r?\n/);
    // Postfix's Maildir copy has LF line ends: dkimpy canonicalises them as CRLF (RFC 6376 §3.4.4 relaxed)
    const crlf = Buffer.from(copy.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
    assert.deepEqual(await verifyWithDkimpy(crlf, dkimRecords), [true, true]);
  });

  it('the 550 from Postfix comes back as a report with the headers only (RET=HDRS) and the ENVID', async () => {
    const [dsn] = await inboxWith(tg, BOB);
    const view = parseWithPython(dsn);
    assert.deepEqual(view.parts, ['text/plain', 'message/delivery-status', 'text/rfc822-headers']);
    assert.equal(view.status[0]['Original-Envelope-Id'], 'e2e-postfix');
    assert.match(view.status[1]['Final-Recipient'], /^rfc822; ?hard@remote\.test$/);
    assert.equal(view.status[1].Status, '5.1.1');
    assert.match(view.status[1]['Remote-MTA'] ?? '', /^dns; ?/);
    assert.match(view.returned ?? '', /Subject: via postfix/);
    assert.doesNotMatch(view.returned ?? '', /Hello from the end-to-end test/, 'no body with RET=HDRS');
  });
});
