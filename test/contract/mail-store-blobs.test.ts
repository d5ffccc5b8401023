/**
 * Blob lifetime: an S3 object goes when its last copy does (once past the grace period), never while any
 * index item in any account still points at it; the sweep removes what nothing references (a crash during
 * delivery) and keeps what something does.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { BLOB_GRACE_MS } from '../../lib/storage/aws/mail/keys.ts';
import { type MailFixture, mailFixture } from './mail-store-support.ts';

let f: MailFixture;
before(async () => {
  f = await mailFixture();
});

const exists = async (key: string) => (await f.storage.blobs.head(key)) !== undefined;
const later = () => f.advance(BLOB_GRACE_MS + 1000);

describe('blob lifetime', () => {
  test('the blob stays while a copy remains and goes with the last one', async () => {
    const a = f.account();
    const inbox = await f.inbox(a);
    const archive = (await f.mail.getMailbox(a, 'Archive'))!;
    const { blobKey } = await f.appendText(inbox, 'Subject: shared\r\n\r\n');
    const map = await f.mail.copyMessages(inbox, [1], archive);
    later();
    await f.mail.expunge(inbox, [1]);
    assert.ok(await exists(blobKey), 'the copy in Archive still needs it');
    await f.mail.expunge(archive, map.destUids);
    assert.equal(await exists(blobKey), false, 'the last copy took it along');
  });

  test('one delivery to several accounts: the blob goes only when every account has let go', async () => {
    const a = f.account();
    const b = f.account();
    const boxA = await f.inbox(a);
    const boxB = await f.inbox(b);
    const { blobKey } = await f.appendText(boxA, 'Subject: to both\r\n\r\n');
    await f.mail.append({ ...boxB, blobKey, blobSize: 20 });
    later();
    await f.mail.expunge(boxA, [1]);
    assert.ok(await exists(blobKey));
    await f.mail.moveMessages(boxB, [1], (await f.mail.getMailbox(b, 'Trash'))!);
    assert.ok(await exists(blobKey), 'a move keeps the reference');
    await f.mail.deleteAccountMail(b);
    assert.equal(await exists(blobKey), false);
  });

  test('a young blob outlives its last copy (a delivery may still be retrying) until the sweep, after the grace', async () => {
    const a = f.account();
    const inbox = await f.inbox(a);
    const uploaded = f.now();
    const { blobKey } = await f.appendText(inbox, 'Subject: quick delete\r\n\r\n');
    await f.mail.expunge(inbox, [1]);
    assert.ok(await exists(blobKey), 'within the grace period');
    const early = await f.mail.sweepBlobs([{ key: blobKey, lastModified: uploaded - BLOB_GRACE_MS }]);
    assert.deepEqual(early, { deleted: [], kept: 1 }, 'first referenced too recently');
    later();
    const swept = await f.mail.sweepBlobs([{ key: blobKey, lastModified: uploaded }]);
    assert.deepEqual(swept, { deleted: [blobKey], kept: 0 });
    assert.equal(await exists(blobKey), false);
  });

  test('the sweep removes blobs nothing ever referenced (a crash during delivery) and keeps referenced ones', async () => {
    const a = f.account();
    const inbox = await f.inbox(a);
    const orphan = `messages/orphan-${a}`;
    await f.storage.blobs.put(orphan, Buffer.from('uploaded, never appended'));
    const { blobKey: used } = await f.appendText(inbox, 'Subject: in use\r\n\r\n');
    const listing = [
      { key: orphan, lastModified: f.now() },
      { key: used, lastModified: f.now() },
    ];
    assert.deepEqual(await f.mail.sweepBlobs(listing), { deleted: [], kept: 2 }, 'both too young to judge');
    later();
    assert.deepEqual(await f.mail.sweepBlobs(listing), { deleted: [orphan], kept: 1 });
    assert.equal(await exists(orphan), false);
    assert.ok(await exists(used));
    assert.ok((await f.mail.getMessage(inbox, 1))!.blobKey === used, 'no index item lost its blob');
  });

  test('deleting a mailbox releases its blobs', async () => {
    const a = f.account();
    const box = await f.mail.createMailbox(a, 'Old');
    const { blobKey } = await f.appendText(box, 'Subject: old\r\n\r\n');
    later();
    await f.mail.deleteMailbox(a, 'Old');
    assert.equal(await exists(blobKey), false);
  });
});
