/**
 * IMAP compliance: mailbox names (RFC 3501 §5.1, §5.1.3, §6.3; RFC 9051 §5.1, §6.3): INBOX in any case,
 * modified UTF-7 both ways and invalid forms, wildcards and a trailing delimiter at CREATE, DELETE and
 * RENAME of INBOX, DELETE of a parent, SELECT of a name that is not a mailbox.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { complianceServer } from './imap-compliance-support.ts';

const env = complianceServer();

const ok = /^a\d+ OK /;
const no = /^a\d+ NO /;

describe('IMAP compliance: INBOX (RFC 3501 §5.1, RFC 9051 §5.1)', () => {
  it('INBOX is case-insensitive: SELECT, STATUS, LIST and CREATE treat inbox and InBoX as INBOX', async () => {
    const c = await env.login();
    assert.match((await c.cmd('SELECT inbox')).status, /^a\d+ OK \[READ-WRITE\]/);
    assert.deepEqual((await c.cmd('STATUS InBoX (MESSAGES)')).untagged, ['* STATUS INBOX (MESSAGES 0)']);
    assert.deepEqual((await c.cmd('LIST "" inbox')).untagged, ['* LIST (\\HasNoChildren \\Subscribed) "/" INBOX']);
    assert.match((await c.cmd('CREATE iNbOx')).status, no);
    assert.match((await c.cmd('DELETE inbox')).status, no);
    c.destroy();
  });

  it('a name under INBOX in another case names one mailbox consistently (RFC 3501 §5.1 leaves it to the server)', async () => {
    const c = await env.login();
    assert.match((await c.cmd('CREATE InBoX/child')).status, ok);
    const listed = (await c.cmd('LIST "" "*child"')).untagged;
    assert.equal(listed.length, 1, listed.join('\n'));
    const name = listed[0].split(' "/" ')[1];
    assert.ok(name === 'INBOX/child' || name === 'InBoX/child', name);
    assert.match((await c.cmd(`SELECT ${name}`)).status, ok);
    assert.match((await c.cmd('SELECT InBoX/child')).status, ok);
    assert.match((await c.cmd(`DELETE ${name}`)).status, ok);
    c.destroy();
  });

  it('DELETE INBOX is NO; RENAME INBOX moves its messages to the new name and leaves INBOX empty (RFC 3501 §6.3.5)', async () => {
    await env.deliver('INBOX', 'Subject: i1\r\n\r\n1\r\n');
    await env.deliver('INBOX', 'Subject: i2\r\n\r\n2\r\n');
    const c = await env.login();
    assert.match((await c.cmd('DELETE INBOX')).status, no);
    assert.match((await c.cmd('RENAME inbox Old-Inbox')).status, ok);
    assert.deepEqual((await c.cmd('STATUS INBOX (MESSAGES)')).untagged, ['* STATUS INBOX (MESSAGES 0)']);
    assert.deepEqual((await c.cmd('STATUS Old-Inbox (MESSAGES)')).untagged, ['* STATUS Old-Inbox (MESSAGES 2)']);
    await c.cmd('SELECT Old-Inbox');
    const subjects = await c.cmd('FETCH 1:* (BODY.PEEK[HEADER.FIELDS (Subject)])');
    assert.equal(subjects.untagged.length, 2);
    assert.match((await c.cmd('SELECT INBOX')).status, ok);
    c.destroy();
  });
});

describe('IMAP compliance: modified UTF-7 (RFC 3501 §5.1.3)', () => {
  it('names round-trip: what CREATE takes, LIST and STATUS give back, byte for byte', async () => {
    const c = await env.login();
    for (const name of ['Caf&AOk-', '&U,BTFw-', 'a&-b', '&ZeVnLIqe-/&Jjo-', 'x&AOkA6QDp-y']) {
      assert.match((await c.cmd(`CREATE "${name}"`)).status, ok, name);
      const list = await c.cmd(`LIST "" "${name}"`);
      assert.deepEqual(list.untagged, [`* LIST (\\HasNoChildren) "/" ${name}`]);
      assert.deepEqual((await c.cmd(`STATUS "${name}" (MESSAGES)`)).untagged, [`* STATUS ${name} (MESSAGES 0)`]);
    }
    c.destroy();
  });

  it('invalid modified UTF-7 is refused: unterminated, encoding printable ASCII, bad base64, a raw &', async () => {
    const c = await env.login();
    for (const name of ['&Jjo', '&AGE-', '&U,B!-', 'a&b', '&AOk']) {
      assert.match((await c.cmd(`CREATE "${name}"`)).status, /^a\d+ (BAD|NO) /, name);
    }
    assert.deepEqual((await c.cmd('LIST "" "&*"')).untagged, []);
    c.destroy();
  });
});

describe('IMAP compliance: CREATE, DELETE, RENAME, SELECT (RFC 3501 §6.3, RFC 9051 §6.3)', () => {
  it('CREATE and RENAME refuse names with the LIST wildcards * and % (RFC 3501 §5.1, RFC 9051 §5.1): NO [CANNOT]', async () => {
    const c = await env.login();
    assert.match((await c.cmd('CREATE "a*b"')).status, /^a\d+ NO \[CANNOT\] /);
    assert.match((await c.cmd('CREATE "a%b"')).status, /^a\d+ NO \[CANNOT\] /);
    assert.match((await c.cmd('CREATE "Wild/*"')).status, /^a\d+ NO \[CANNOT\] /);
    assert.match((await c.cmd('CREATE WildSrc')).status, ok);
    assert.match((await c.cmd('RENAME WildSrc "Wild%"')).status, /^a\d+ NO \[CANNOT\] /);
    assert.deepEqual((await c.cmd('LIST "" "Wild*"')).untagged, ['* LIST (\\HasNoChildren) "/" WildSrc']);
    c.destroy();
  });

  it('CREATE a/b/c creates the missing superiors a and a/b; RENAME to x/y/z creates x and x/y (RFC 3501 §6.3.3, §6.3.5)', async () => {
    const c = await env.login();
    assert.match((await c.cmd('CREATE Sup1/Mid/Leaf')).status, ok);
    assert.deepEqual((await c.cmd('LIST "" "Sup1*"')).untagged, [
      '* LIST (\\HasChildren) "/" Sup1',
      '* LIST (\\HasChildren) "/" Sup1/Mid',
      '* LIST (\\HasNoChildren) "/" Sup1/Mid/Leaf',
    ]);
    assert.match((await c.cmd('SELECT Sup1/Mid')).status, ok);
    assert.match((await c.cmd('CREATE Sup1/Mid/Leaf')).status, /^a\d+ NO \[ALREADYEXISTS\] /);
    assert.match((await c.cmd('CREATE Sup1/Other')).status, ok);
    assert.match((await c.cmd('RENAME Sup1/Other Sup2/Deep/Other')).status, ok);
    assert.deepEqual((await c.cmd('LIST "" "Sup2*"')).untagged, [
      '* LIST (\\HasChildren) "/" Sup2',
      '* LIST (\\HasChildren) "/" Sup2/Deep',
      '* LIST (\\HasNoChildren) "/" Sup2/Deep/Other',
    ]);
    c.destroy();
  });

  it('CREATE with a trailing delimiter creates the name without it; CREATE of an existing name is NO [ALREADYEXISTS]', async () => {
    const c = await env.login();
    assert.match((await c.cmd('CREATE Trail/')).status, ok);
    assert.deepEqual((await c.cmd('LIST "" Trail*')).untagged, ['* LIST (\\HasNoChildren) "/" Trail']);
    assert.match((await c.cmd('CREATE Trail')).status, /^a\d+ NO \[ALREADYEXISTS\] /);
    assert.match((await c.cmd('CREATE ""')).status, /^a\d+ (BAD|NO) /);
    c.destroy();
  });

  it('DELETE of a mailbox with children keeps them; the parent is then \\Noselect and a second DELETE is NO (RFC 3501 §6.3.4)', async () => {
    const c = await env.login();
    assert.match((await c.cmd('CREATE Parent/Child')).status, ok);
    assert.match((await c.cmd('CREATE Parent/Child2')).status, ok);
    // Parent itself was created as a real mailbox? CREATE of a child does not have to; make sure it is one.
    await c.cmd('CREATE Parent');
    assert.match((await c.cmd('DELETE Parent')).status, ok);
    const list = await c.cmd('LIST "" Parent*');
    assert.equal(list.untagged.length, 3, list.untagged.join('\n'));
    assert.match(list.untagged[0], /^\* LIST \([^)]*\\Noselect[^)]*\) "\/" Parent$/);
    assert.match((await c.cmd('SELECT Parent')).status, no);
    assert.match((await c.cmd('DELETE Parent')).status, no);
    assert.match((await c.cmd('SELECT Parent/Child')).status, ok);
    c.destroy();
  });

  it('SELECT of a name that is not a mailbox (\\Noselect, or missing) is NO and leaves no mailbox selected (RFC 9051 §6.3.2)', async () => {
    // made without its superior (CREATE would make Hier too, RFC 3501 §6.3.3): Hier is \Noselect
    await env.storage.mail.createMailbox(env.account.accountId, 'Hier/Leaf');
    const c = await env.login();
    await c.cmd('SELECT Hier/Leaf');
    const sel = await c.cmd('SELECT Hier');
    assert.match(sel.status, no);
    assert.match((await c.cmd('FETCH 1 FLAGS')).status, /^a\d+ BAD /);
    assert.match((await c.cmd('EXAMINE Nowhere/At/All')).status, no);
    c.destroy();
  });

  it('RENAME: children follow, a missing source is NO, an existing target is NO, renaming onto itself is NO', async () => {
    const c = await env.login();
    await c.cmd('CREATE Ren/Sub');
    await c.cmd('CREATE Ren');
    await c.cmd('CREATE Taken');
    assert.match((await c.cmd('RENAME Ren Moved')).status, ok);
    assert.deepEqual((await c.cmd('LIST "" Moved*')).untagged, [
      '* LIST (\\HasChildren) "/" Moved',
      '* LIST (\\HasNoChildren) "/" Moved/Sub',
    ]);
    assert.deepEqual((await c.cmd('LIST "" Ren*')).untagged, []);
    assert.match((await c.cmd('RENAME Missing Other')).status, no);
    assert.match((await c.cmd('RENAME Moved Taken')).status, no);
    assert.match((await c.cmd('RENAME Moved Moved')).status, no);
    c.destroy();
  });
});
