/**
 * LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), CHILDREN (RFC 3348), SPECIAL-USE / CREATE-SPECIAL-USE
 * (RFC 6154), STATUS SIZE (RFC 8438), DELETED (RFC 9051 §6.3.11), DELETED-STORAGE (RFC 9208 §4.4) and
 * MAILBOXID (RFC 8474) over a real socket with real storage: exact responses. The RFC 5258 §5 examples are
 * replayed on their own mailbox trees; this server adds \HasChildren / \HasNoChildren to every LIST
 * response (RFC 5258 §4 allows it unasked), so those lines carry them on top of the RFC's attributes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { deliverTo } from '../protocol/imap-support.ts';
import { createTree, type MailboxServer, mailboxServer } from './imap-mailbox-support.ts';

let server: MailboxServer;
before(async () => {
  server = await mailboxServer();
});
after(() => server.close());

/** The RFC 5258 §5 examples 1-6 tree: `+` marks the subscribed names. */
const FRUIT = ['Fruit', 'Fruit/Apple', '+Fruit/Banana', 'Tofu', '+Vegetable', '+Vegetable/Broccoli', 'Vegetable/Corn'];

describe('LIST-EXTENDED: the RFC 5258 §5 examples', () => {
  it('examples 1-6: base LIST, SUBSCRIBED selection, CHILDREN and SUBSCRIBED returns, several patterns, REMOTE', async () => {
    const account = await server.addAccount('fruit');
    await createTree(server.storage, account, [...FRUIT, '+Fruit/Peach']);
    // Fruit/Peach stays subscribed after its mailbox is gone (RFC 3501 §6.3.6)
    await server.storage.mail.deleteMailbox(account.accountId, 'Fruit/Peach');
    const c = await server.login(account);
    const all = [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasChildren) "/" Fruit',
      '* LIST (\\HasNoChildren) "/" Fruit/Apple',
      '* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana',
      '* LIST (\\HasNoChildren) "/" Tofu',
      '* LIST (\\HasChildren \\Subscribed) "/" Vegetable',
      '* LIST (\\HasNoChildren \\Subscribed) "/" Vegetable/Broccoli',
      '* LIST (\\HasNoChildren) "/" Vegetable/Corn',
    ];
    assert.deepEqual((await c.cmd('LIST "" "*"')).untagged, all);
    // Example 2: only the subscribed names, with accurate attributes (unlike LSUB), \NonExistent for the
    // subscribed name without a mailbox (§3.4)
    assert.deepEqual((await c.cmd('LIST (SUBSCRIBED) "" "*"')).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana',
      '* LIST (\\NonExistent \\Noselect \\HasNoChildren \\Subscribed) "/" Fruit/Peach',
      '* LIST (\\HasChildren \\Subscribed) "/" Vegetable',
      '* LIST (\\HasNoChildren \\Subscribed) "/" Vegetable/Broccoli',
    ]);
    // Example 3: an empty selection list is extended syntax; CHILDREN is computed for each name
    assert.deepEqual((await c.cmd('LIST () "" "%" RETURN (CHILDREN)')).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasChildren) "/" Fruit',
      '* LIST (\\HasNoChildren) "/" Tofu',
      '* LIST (\\HasChildren \\Subscribed) "/" Vegetable',
    ]);
    // Example 5: RETURN (SUBSCRIBED) lists every mailbox and says which are subscribed
    assert.deepEqual((await c.cmd('LIST "" "*" RETURN (SUBSCRIBED)')).untagged, all);
    // Example 6: several patterns in parentheses, each name once
    assert.deepEqual((await c.cmd('LIST "" ("INBOX" "Tofu" "Vegetable/%" "Tof*")')).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasNoChildren) "/" Tofu',
      '* LIST (\\HasNoChildren \\Subscribed) "/" Vegetable/Broccoli',
      '* LIST (\\HasNoChildren) "/" Vegetable/Corn',
    ]);
    // Example 4: REMOTE adds remote mailboxes; there are none here
    assert.deepEqual((await c.cmd('LIST (REMOTE) "" "%"')).untagged, (await c.cmd('LIST "" "%"')).untagged);
    // RECURSIVEMATCH counts the dangling subscription as a subscribed child too (§3.5)
    assert.deepEqual((await c.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasChildren) "/" Fruit ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\HasChildren \\Subscribed) "/" Vegetable ("CHILDINFO" ("SUBSCRIBED"))',
    ]);
    // LSUB lists the subscribed names, the dangling one too; UNSUBSCRIBE removes it (RFC 3501 §6.3.9, §6.3.7)
    assert.deepEqual((await c.cmd('LSUB "" "Fruit/*"')).untagged, [
      '* LSUB () "/" Fruit/Banana',
      '* LSUB () "/" Fruit/Peach',
    ]);
    assert.match((await c.cmd('SUBSCRIBE Fruit/Peach')).status, /^a\d+ NO \[NONEXISTENT\]/);
    assert.match((await c.cmd('UNSUBSCRIBE Fruit/Peach')).status, /^a\d+ OK /);
    assert.deepEqual((await c.cmd('LIST (SUBSCRIBED) "" "Fruit/*"')).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana',
    ]);
    assert.match((await c.cmd('UNSUBSCRIBE Fruit/Peach')).status, /^a\d+ NO \[NONEXISTENT\]/);
    c.destroy();
  });

  it('example 8: RECURSIVEMATCH gives CHILDINFO for a parent with a subscribed child the pattern does not reach (§3.5)', async () => {
    const account = await server.addAccount('foo');
    await createTree(server.storage, account, ['Foo', 'Foo/Bar', '+Foo/Baz', 'Moo']);
    const c = await server.login(account);
    const query = 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)';
    // 8A: Foo is not subscribed, but Foo/Baz is
    assert.deepEqual((await c.cmd(query)).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasChildren) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))',
    ]);
    // 8B: Foo and Moo subscribed too: Foo meets the criteria and still has a subscribed child
    assert.match((await c.cmd('SUBSCRIBE Foo')).status, /OK/);
    assert.match((await c.cmd('SUBSCRIBE Moo')).status, /OK/);
    assert.deepEqual((await c.cmd(query)).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasChildren \\Subscribed) "/" Foo ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\HasNoChildren \\Subscribed) "/" Moo',
    ]);
    // 8C: without a subscribed child there is no CHILDINFO; \HasChildren is about existing children
    assert.match((await c.cmd('UNSUBSCRIBE Foo/Baz')).status, /OK/);
    assert.deepEqual((await c.cmd(query)).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasChildren \\Subscribed) "/" Foo',
      '* LIST (\\HasNoChildren \\Subscribed) "/" Moo',
    ]);
    // without RECURSIVEMATCH no CHILDINFO, ever (§3.5)
    assert.match((await c.cmd('SUBSCRIBE Foo/Baz')).status, /OK/);
    assert.deepEqual((await c.cmd('LIST (SUBSCRIBED) "" "%"')).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasChildren \\Subscribed) "/" Foo',
      '* LIST (\\HasNoChildren \\Subscribed) "/" Moo',
    ]);
    c.destroy();
  });

  it('example 9: "*2" lists foo2 and eps2 with CHILDINFO and leaves out baz2, whose subscribed children are listed (§3.5)', async () => {
    const account = await server.addAccount('nine');
    await server.storage.mail.setSubscribed(account.accountId, 'INBOX', false);
    await createTree(server.storage, account, [
      'foo2',
      '+foo2/bar1',
      '+foo2/bar2',
      'baz2',
      '+baz2/bar2',
      '+baz2/bar22',
      '+baz2/bar222',
      '+eps2',
      '+eps2/mamba',
      '+qux2/bar2',
    ]);
    const c = await server.login(account);
    assert.deepEqual((await c.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "*2"')).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar2',
      '* LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar22',
      '* LIST (\\HasNoChildren \\Subscribed) "/" baz2/bar222',
      '* LIST (\\HasChildren \\Subscribed) "/" eps2 ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\HasChildren) "/" foo2 ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\HasNoChildren \\Subscribed) "/" foo2/bar2',
      '* LIST (\\HasNoChildren \\Subscribed) "/" qux2/bar2',
    ]);
    // With "%" no subscribed child is reached by the pattern, so every parent gets CHILDINFO; qux2 has no
    // mailbox of its own (\NonExistent, RFC 5258 §3.4)
    assert.deepEqual((await c.cmd('LIST (RECURSIVEMATCH SUBSCRIBED) "" "%"')).untagged, [
      '* LIST (\\HasChildren) "/" baz2 ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\HasChildren \\Subscribed) "/" eps2 ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\HasChildren) "/" foo2 ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\NonExistent \\Noselect \\HasChildren) "/" qux2 ("CHILDINFO" ("SUBSCRIBED"))',
    ]);
    c.destroy();
  });

  it('refuses what §3 and §6 call errors with BAD: RECURSIVEMATCH alone or with REMOTE only, unknown options', async () => {
    const account = await server.addAccount('bad');
    const c = await server.login(account);
    for (const command of [
      'LIST (RECURSIVEMATCH) "" "*"',
      'LIST (REMOTE RECURSIVEMATCH) "" "%"',
      'LIST (BOGUS) "" "*"',
      'LIST "" "*" RETURN (BOGUS)',
      'LIST "" "*" RETURN (STATUS ())',
      'LIST "" "*" RETURN (STATUS (BOGUS))',
      'LIST "" ()',
    ]) {
      const r = await c.cmd(command);
      assert.deepEqual(r.untagged, [], command);
      assert.match(r.status, /^a\d+ BAD /, command);
    }
    // the empty pattern still asks for the delimiter (RFC 9051 §6.3.9)
    assert.deepEqual((await c.cmd('LIST "" ""')).untagged, ['* LIST (\\Noselect) "/" ""']);
    // an empty RETURN list is valid syntax (§6 list-return-opts) and asks for nothing more
    assert.deepEqual((await c.cmd('LIST "" "INBOX" RETURN ()')).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
    ]);
    c.destroy();
  });
});

describe('SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154)', () => {
  it('LIST (SPECIAL-USE) lists only special-use mailboxes; CREATE USE sets one, refuses others with USEATTR (§3, §5.3)', async () => {
    const account = await server.addAccount('special');
    await createTree(server.storage, account, ['Plain', 'Plain/Deep']);
    const c = await server.login(account);
    const created = await c.cmd('CREATE Outbox (USE (\\Sent))');
    const box = await server.storage.mail.getMailbox(account.accountId, 'Outbox');
    // RFC 8474 §4.1: CREATE's OK carries the new mailbox's id
    assert.equal(created.status, `a2 OK [MAILBOXID (${box!.mailboxId})] CREATE completed`);
    assert.equal(box!.specialUse, '\\Sent');
    for (const [command, code] of [
      ['CREATE Everything (USE (\\All))', 'USEATTR'],
      ['CREATE Starred (USE (\\Flagged))', 'USEATTR'],
      ['CREATE Both (USE (\\Sent \\Drafts))', 'USEATTR'],
      ['CREATE Odd (USE (\\Bogus))', 'USEATTR'],
    ]) {
      assert.match((await c.cmd(command)).status, new RegExp(`^a\\d+ NO \\[${code}\\]`), command);
    }
    // nothing was created for the refused ones (§3: MUST NOT create the mailbox)
    assert.deepEqual((await c.cmd('LIST "" "%"')).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasNoChildren \\Sent) "/" Outbox',
      '* LIST (\\HasChildren) "/" Plain',
    ]);
    assert.deepEqual((await c.cmd('LIST (SPECIAL-USE) "" "*"')).untagged, [
      '* LIST (\\HasNoChildren \\Sent) "/" Outbox',
    ]);
    assert.deepEqual((await c.cmd('LIST "" "Out*" RETURN (SPECIAL-USE)')).untagged, [
      '* LIST (\\HasNoChildren \\Sent) "/" Outbox',
    ]);
    assert.deepEqual((await c.cmd('LIST (SPECIAL-USE SUBSCRIBED) "" "*"')).untagged, []);
    // SPECIAL-USE is a base selection option (RFC 6154 §6): RECURSIVEMATCH goes with it, CHILDINFO names it
    assert.match((await c.cmd('CREATE Plain/Old (USE (\\Archive))')).status, /^a\d+ OK \[MAILBOXID /);
    assert.deepEqual((await c.cmd('LIST (SPECIAL-USE RECURSIVEMATCH) "" "%"')).untagged, [
      '* LIST (\\HasNoChildren \\Sent) "/" Outbox',
      '* LIST (\\HasChildren) "/" Plain ("CHILDINFO" ("SPECIAL-USE"))',
    ]);
    c.destroy();
  });
});

describe('LIST-STATUS (RFC 5819) and STATUS', () => {
  it('sends a STATUS after each selectable listed mailbox, none for \\NonExistent or CHILDINFO-only names (§2)', async () => {
    const account = await server.addAccount('status');
    await createTree(server.storage, account, ['Work/Projects', '+Work/Projects/Deep']);
    const m1 = await deliverTo(server.storage, account.accountId, Buffer.from('Subject: one\r\n\r\nbody one\r\n'));
    const m2 = await deliverTo(server.storage, account.accountId, Buffer.from('Subject: 2\r\n\r\ntwo\r\n'), {
      flags: ['\\Seen', '\\Deleted'],
    });
    const size = m1.bytes.length + m2.bytes.length;
    const c = await server.login(account);
    assert.deepEqual((await c.cmd('LIST "" "*" RETURN (STATUS (MESSAGES UNSEEN SIZE DELETED))')).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      `* STATUS INBOX (MESSAGES 2 UNSEEN 1 SIZE ${size} DELETED 1)`,
      '* LIST (\\NonExistent \\Noselect \\HasChildren) "/" Work',
      '* LIST (\\HasChildren) "/" Work/Projects',
      '* STATUS Work/Projects (MESSAGES 0 UNSEEN 0 SIZE 0 DELETED 0)',
      '* LIST (\\HasNoChildren \\Subscribed) "/" Work/Projects/Deep',
      '* STATUS Work/Projects/Deep (MESSAGES 0 UNSEEN 0 SIZE 0 DELETED 0)',
    ]);
    // Work/Projects is listed only for its subscribed child: no STATUS for it
    assert.deepEqual(
      (await c.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "Work/%" RETURN (STATUS (MESSAGES))')).untagged,
      ['* LIST (\\HasChildren) "/" Work/Projects ("CHILDINFO" ("SUBSCRIBED"))'],
    );
    assert.deepEqual((await c.cmd('LIST (SUBSCRIBED) "" "*" RETURN (STATUS (UIDNEXT))')).untagged, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      `* STATUS INBOX (UIDNEXT ${m2.uid + 1})`,
      '* LIST (\\HasNoChildren \\Subscribed) "/" Work/Projects/Deep',
      '* STATUS Work/Projects/Deep (UIDNEXT 1)',
    ]);
    c.destroy();
  });

  it('STATUS SIZE is the sum of RFC822.SIZE (RFC 8438 §4); DELETED and DELETED-STORAGE follow STORE and EXPUNGE', async () => {
    const account = await server.addAccount('sizes');
    const body = Buffer.from(`Subject: big\r\n\r\n${'x'.repeat(3000)}\r\n`);
    await deliverTo(server.storage, account.accountId, body, { headerPrefix: 'Return-Path: <a@b.example>\r\n' });
    await deliverTo(server.storage, account.accountId, Buffer.from('Subject: small\r\n\r\nhi\r\n'));
    const c = await server.login(account);
    assert.match((await c.cmd('SELECT INBOX')).status, /OK/);
    const sizes = (await c.cmd('FETCH 1:* (RFC822.SIZE)')).untagged.map((l) =>
      Number(/RFC822\.SIZE (\d+)/.exec(l)![1]),
    );
    const total = sizes[0] + sizes[1];
    const query = 'STATUS INBOX (SIZE DELETED DELETED-STORAGE MESSAGES)';
    assert.deepEqual((await c.cmd(query)).untagged, [
      `* STATUS INBOX (SIZE ${total} DELETED 0 DELETED-STORAGE 0 MESSAGES 2)`,
    ]);
    assert.match((await c.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)')).status, /OK/);
    // RFC 9208 §4.4: DELETED-STORAGE in KiB (units of 1024 octets, rounded up)
    const kib = Math.ceil(sizes[0] / 1024);
    assert.deepEqual((await c.cmd(query)).untagged, [
      `* STATUS INBOX (SIZE ${total} DELETED 1 DELETED-STORAGE ${kib} MESSAGES 2)`,
    ]);
    assert.match((await c.cmd('EXPUNGE')).status, /OK/);
    assert.deepEqual((await c.cmd(query)).untagged, [
      `* STATUS INBOX (SIZE ${sizes[1]} DELETED 0 DELETED-STORAGE 0 MESSAGES 1)`,
    ]);
    c.destroy();
  });

  it('DELETED and DELETED-STORAGE count the flags of a mailbox older than the \\Deleted counters', async () => {
    const account = await server.addAccount('legacy');
    const d = await deliverTo(
      server.storage,
      account.accountId,
      Buffer.from(`Subject: a\r\n\r\n${'y'.repeat(2100)}\r\n`),
      {
        flags: ['\\Deleted'],
      },
    );
    await deliverTo(server.storage, account.accountId, Buffer.from('Subject: b\r\n\r\nb\r\n'));
    const inbox = (await server.storage.mail.getMailbox(account.accountId, 'INBOX'))!;
    assert.equal(inbox.deleted, 1);
    // the item as a mailbox created before the counters has it: no marker, so the counters are not trusted
    await server.fixture.db.send(
      new UpdateItemCommand({
        TableName: server.fixture.names.tables.mailboxes,
        Key: { pk: { S: account.accountId }, sk: { S: `MBX#${inbox.mailboxId}` } },
        UpdateExpression: 'SET deleted = :wrong REMOVE deletedCounted',
        ExpressionAttributeValues: { ':wrong': { N: '7' } },
      }),
    );
    assert.equal((await server.storage.mail.getMailbox(account.accountId, 'INBOX'))!.deleted, undefined);
    const c = await server.login(account);
    assert.deepEqual((await c.cmd('STATUS INBOX (DELETED DELETED-STORAGE)')).untagged, [
      `* STATUS INBOX (DELETED 1 DELETED-STORAGE ${Math.ceil(d.bytes.length / 1024)})`,
    ]);
    c.destroy();
  });

  it('MAILBOXID: the same on CREATE, SELECT, EXAMINE and STATUS, and kept across RENAME (RFC 8474 §4.1-§4.3)', async () => {
    const account = await server.addAccount('ids');
    const c = await server.login(account);
    const created = (await c.cmd('CREATE Projects')).status;
    const id = /MAILBOXID \(([A-Za-z0-9_-]{1,255})\)/.exec(created)![1];
    assert.deepEqual((await c.cmd('STATUS Projects (MAILBOXID MESSAGES)')).untagged, [
      `* STATUS Projects (MAILBOXID (${id}) MESSAGES 0)`,
    ]);
    assert.ok((await c.cmd('SELECT Projects')).untagged.includes(`* OK [MAILBOXID (${id})] mailbox id`));
    assert.match((await c.cmd('UNSELECT')).status, /OK/);
    assert.match((await c.cmd('RENAME Projects Archive/Projects')).status, /OK/);
    assert.ok((await c.cmd('EXAMINE Archive/Projects')).untagged.includes(`* OK [MAILBOXID (${id})] mailbox id`));
    assert.deepEqual((await c.cmd('STATUS Archive/Projects (MAILBOXID)')).untagged, [
      `* STATUS Archive/Projects (MAILBOXID (${id}))`,
    ]);
    // a new mailbox under the old name is a different mailbox
    const again = (await c.cmd('CREATE Projects')).status;
    assert.doesNotMatch(again, new RegExp(`\\(${id}\\)`));
    c.destroy();
  });

  it('advertises the mailbox extensions and OBJECTID (MAILBOXID here, EMAILID/THREADID in imap-objectid.test.ts)', async () => {
    const account = await server.addAccount('caps');
    const c = await server.login(account);
    const caps = (await c.cmd('CAPABILITY')).untagged[0].split(' ');
    for (const cap of [
      'LIST-EXTENDED',
      'LIST-STATUS',
      'CHILDREN',
      'CREATE-SPECIAL-USE',
      'STATUS=SIZE',
      'SPECIAL-USE',
      'OBJECTID',
    ]) {
      assert.ok(caps.includes(cap), cap);
    }
    c.destroy();
  });
});

describe('LIST-EXTENDED with imapflow', () => {
  it('list() with a statusQuery and listTree() read the tree, the subscriptions and the counts', async () => {
    const account = await server.addAccount('flow');
    await createTree(server.storage, account, FRUIT);
    await deliverTo(server.storage, account.accountId, Buffer.from('Subject: x\r\n\r\ny\r\n'), { mailbox: 'Tofu' });
    const client = await server.imapflow(account);
    try {
      const boxes = await client.list({ statusQuery: { messages: true, unseen: true } });
      const byPath = new Map(boxes.map((b) => [b.path, b]));
      assert.deepEqual([...byPath.keys()].sort(), [
        'Fruit',
        'Fruit/Apple',
        'Fruit/Banana',
        'INBOX',
        'Tofu',
        'Vegetable',
        'Vegetable/Broccoli',
        'Vegetable/Corn',
      ]);
      assert.deepEqual(byPath.get('Tofu')?.status, { path: 'Tofu', messages: 1, unseen: 1 });
      assert.equal(byPath.get('Vegetable')?.subscribed, true);
      // RETURN (SUBSCRIBED) told it; without subscription state imapflow would call every mailbox subscribed
      assert.ok(!byPath.get('Fruit')?.subscribed);
      const tree = await client.listTree();
      const fruit = tree.folders?.find((f) => f.path === 'Fruit');
      assert.deepEqual(
        fruit?.folders?.map((f) => f.path),
        ['Fruit/Apple', 'Fruit/Banana'],
      );
      const status = await client.status('Tofu', { messages: true, size: true });
      assert.ok(status);
      assert.equal(status.messages, 1);
    } finally {
      await client.logout();
    }
  });
});
