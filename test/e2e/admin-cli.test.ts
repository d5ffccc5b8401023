/**
 * The admin CLI as a user runs it: a child process (`node --import tsx local/admin.ts ...`) that finds "the
 * emulator" through POSTERN_DATA_DIR. The emulator here is only its state file, pointing at the test run's
 * storage under a fresh table prefix; what the CLI wrote is then checked through the storage ports.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AwsEndpoints } from '../../lib/core/config.ts';
import { verifyPassword } from '../../lib/core/password.ts';
import type { Storage } from '../../lib/core/ports.ts';
import { route } from '../../lib/pipeline/route.ts';
import { writeEmulatorState } from '../../local/state.ts';
import { type AdminEmulator, adminEmulator, assertInputError, assertOk, runAdmin } from '../support/adminCli.ts';
import { startSecretsManager } from '../support/secretsManager.ts';
import { testEndpoints } from '../support/storage.ts';

const PASSWORD = 'Corr3ct-Horse-Battery-Staple';
const NEW_PASSWORD = 'Tr0ub4dor&3-anew';
const BOB_PASSWORD = 'bobs own passphrase';
/** 14 characters: one short of the minimum (NIST SP 800-63B-4 §3.1.1.2: 15 for a single-factor password). */
const SHORT_PASSWORD = 'fourteen-chars';

/** Everything the CLI printed in this file, to check that no password ever shows up. */
const printed: string[] = [];

const admin = (args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; dataDir?: string } = {}) =>
  runAdmin(args, { ...opts, dataDir: opts.dataDir ?? dataDir, printed });

// Started at top level: the services' shutdown hook must belong to the file, not to a before hook.
const endpoints: AwsEndpoints = await testEndpoints();
let emulator: AdminEmulator;
let dataDir: string;
let prefix: string;
let storage: Storage;

before(async () => {
  emulator = await adminEmulator(endpoints, 'postern-admin-');
  ({ dataDir, prefix, storage } = emulator);
});

after(() => emulator?.close());

describe('admin CLI', () => {
  it('prints usage for help, --help and no arguments', async () => {
    for (const args of [[], ['help'], ['--help'], ['account', '-h']]) {
      const lines = assertOk(await admin(args));
      assert.match(lines[0], /^usage: npm run admin/);
      assert.ok(lines.some((l) => l.includes('account add <address>')));
      assert.ok(lines.some((l) => l.includes('--allow-weak-password')));
      assert.ok(lines.some((l) => l.includes('blobs sweep [--grace <age>]')));
    }
  });

  it('refuses unknown commands, unknown options and missing arguments', async () => {
    assertInputError(await admin(['frobnicate']), /unknown command frobnicate/);
    assertInputError(await admin(['domain', 'rename', 'a.example']), /unknown command domain rename/);
    assertInputError(await admin(['domain', 'add']), /missing argument/);
    assertInputError(await admin(['domain', 'add', 'a.example', 'b.example']), /too many arguments/);
    assertInputError(await admin(['domain', 'list', '--bogus']), /unknown option --bogus/);
    assertInputError(await admin(['domain', 'add', 'a.example', '--quota', '1M']), /--quota does not apply/);
  });

  it('adds, lists and removes domains', async () => {
    // The second line names the new DKIM keys (test/e2e/admin-dkim.test.ts).
    assert.deepEqual(assertOk(await admin(['domain', 'add', 'Example.COM']))[0], 'added domain example.com');
    assertOk(await admin(['domain', 'add', 'other.example']));
    assert.deepEqual(assertOk(await admin(['domain', 'list'])), ['example.com', 'other.example']);
    assertInputError(await admin(['domain', 'add', 'example.com']), /domain example\.com already exists/);
    assertInputError(await admin(['domain', 'add', 'not_a domain']), /invalid domain/);
    assert.deepEqual(assertOk(await admin(['domain', 'remove', 'other.example'])), ['removed domain other.example']);
    assertInputError(await admin(['domain', 'remove', 'other.example']), /unknown domain other\.example/);
    assert.deepEqual(
      (await storage.directory.listDomains()).map((d) => d.domain),
      ['example.com'],
    );
  });

  it('adds an account with --password-stdin: argon2id hash, default mailboxes, no password in sight', async () => {
    const lines = assertOk(
      await admin(['account', 'add', 'Alice@Example.com', '--password-stdin'], { input: `${PASSWORD}\r\n` }),
    );
    assert.deepEqual(lines, ['added account alice@example.com  quota=unlimited']);
    const account = await storage.directory.getAccountByAddress('alice@example.com');
    assert.ok(account);
    assert.equal(account.quotaBytes, 0);
    assert.match(account.passwordHash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok(!account.passwordHash.includes(PASSWORD));
    assert.ok(await verifyPassword(PASSWORD, account.passwordHash));
    assert.ok(!(await verifyPassword(`${PASSWORD}\r`, account.passwordHash)));
    const mailboxes = (await storage.mail.listMailboxes(account.accountId)).map((m) => m.name);
    for (const name of ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk', 'Archive'])
      assert.ok(mailboxes.includes(name), name);
  });

  it('adds an account with a quota, and lists accounts', async () => {
    assertOk(
      await admin(['account', 'add', 'bob@example.com', '--quota', '2G', '--password-stdin'], { input: BOB_PASSWORD }),
    );
    assert.equal((await storage.directory.getAccountByAddress('bob@example.com'))?.quotaBytes, 2 * 2 ** 30);
    assert.deepEqual(assertOk(await admin(['account', 'list'])), [
      'alice@example.com  quota=unlimited',
      'bob@example.com  quota=2G',
    ]);
    assert.deepEqual(assertOk(await admin(['account', 'list', 'example.com'])).length, 2);
    assertInputError(await admin(['account', 'list', 'nowhere.example']), /unknown domain nowhere\.example/);
  });

  it('refuses a duplicate account in one line and leaves the first unchanged', async () => {
    const before = await storage.directory.getAccountByAddress('alice@example.com');
    const run = await admin(['account', 'add', 'alice@example.com', '--quota', '10M', '--password-stdin'], {
      input: `${NEW_PASSWORD}\n`,
    });
    assertInputError(run, /alice@example\.com already exists/);
    assert.deepEqual(await storage.directory.getAccountByAddress('alice@example.com'), before);
  });

  it('refuses bad addresses, bad quotas, unknown domains and empty passwords, writing nothing', async () => {
    const input = `${PASSWORD}\n`;
    assertInputError(
      await admin(['account', 'add', 'not-an-address', '--password-stdin'], { input }),
      /invalid address/,
    );
    assertInputError(
      await admin(['account', 'add', 'a@b@example.com', '--password-stdin'], { input }),
      /invalid address/,
    );
    assertInputError(
      await admin(['account', 'add', 'carol@example.com', '--quota', 'lots', '--password-stdin'], { input }),
      /invalid quota/,
    );
    assertInputError(
      await admin(['account', 'add', 'carol@nowhere.example', '--password-stdin'], { input }),
      /unknown domain nowhere\.example/,
    );
    assertInputError(
      await admin(['account', 'add', 'carol@example.com', '--password-stdin'], { input: '\r\n' }),
      /empty password/,
    );
    assertInputError(await admin(['account', 'add', 'carol@example.com'], { input }), /--password-stdin/);
    assert.equal(await storage.directory.lookupAddress('carol@example.com'), undefined);
    assert.equal(await storage.directory.lookupAddress('carol@nowhere.example'), undefined);
    assert.equal(await storage.directory.getDomain('nowhere.example'), undefined);
    assert.deepEqual((await storage.directory.listAccounts()).map((a) => a.address).sort(), [
      'alice@example.com',
      'bob@example.com',
    ]);
  });

  it('sets quotas (10M, 0 = unlimited)', async () => {
    assert.deepEqual(assertOk(await admin(['quota', 'set', 'alice@example.com', '10M'])), [
      'alice@example.com  quota=10M',
    ]);
    assert.equal((await storage.directory.getAccountByAddress('alice@example.com'))?.quotaBytes, 10 * 1024 * 1024);
    assertOk(await admin(['quota', 'set', 'bob@example.com', '0']));
    assert.equal((await storage.directory.getAccountByAddress('bob@example.com'))?.quotaBytes, 0);
    assertInputError(await admin(['quota', 'set', 'alice@example.com', '-5']), /invalid quota|unknown option/);
    assertInputError(await admin(['quota', 'set', 'alice@example.com', '1.5G']), /invalid quota/);
    assertInputError(await admin(['quota', 'set', 'nobody@example.com', '1M']), /unknown account nobody@example\.com/);
    assert.equal((await storage.directory.getAccountByAddress('alice@example.com'))?.quotaBytes, 10 * 1024 * 1024);
  });

  it('changes a password with account passwd', async () => {
    const before = await storage.directory.getAccountByAddress('alice@example.com');
    assert.deepEqual(
      assertOk(
        await admin(['account', 'passwd', 'alice@example.com', '--password-stdin'], { input: `${NEW_PASSWORD}\n` }),
      ),
      ['changed password of alice@example.com'],
    );
    const account = await storage.directory.getAccountByAddress('alice@example.com');
    assert.ok(account && before);
    assert.notEqual(account.passwordHash, before.passwordHash);
    assert.ok(await verifyPassword(NEW_PASSWORD, account.passwordHash));
    assert.ok(!(await verifyPassword(PASSWORD, account.passwordHash)));
    assert.equal(account.accountId, before.accountId);
    assert.equal(account.quotaBytes, before.quotaBytes);
    assertInputError(
      await admin(['account', 'passwd', 'nobody@example.com', '--password-stdin'], { input: `${NEW_PASSWORD}\n` }),
      /unknown account/,
    );
    assertInputError(
      await admin(['account', 'passwd', 'alice@example.com', '--password-stdin'], { input: '' }),
      /empty password/,
    );
    assert.equal(
      (await storage.directory.getAccountByAddress('alice@example.com'))?.passwordHash,
      account.passwordHash,
    );
  });

  it('refuses passwords under 15 characters unless --allow-weak-password, writing nothing', async () => {
    assert.equal(SHORT_PASSWORD.length, 14);
    const short = await admin(['account', 'add', 'carol@example.com', '--password-stdin'], {
      input: `${SHORT_PASSWORD}\n`,
    });
    assertInputError(short, /password too short: at least 15 characters.*--allow-weak-password/);
    assert.equal(await storage.directory.lookupAddress('carol@example.com'), undefined);
    // Characters are Unicode code points: 8 emoji are 16 UTF-16 units, still 8 characters.
    assertInputError(
      await admin(['account', 'add', 'carol@example.com', '--password-stdin'], { input: `${'😀'.repeat(8)}\n` }),
      /password too short/,
    );
    const before = await storage.directory.getAccountByAddress('alice@example.com');
    assertInputError(
      await admin(['account', 'passwd', 'alice@example.com', '--password-stdin'], { input: `${SHORT_PASSWORD}\n` }),
      /password too short/,
    );
    assert.deepEqual(await storage.directory.getAccountByAddress('alice@example.com'), before);

    // Exactly 15 characters (composed: 15 code points, 30 bytes) is enough.
    assertOk(await admin(['account', 'add', 'carol@example.com', '--password-stdin'], { input: 'é'.repeat(15) }));
    assert.ok(
      await verifyPassword(
        'é'.repeat(15),
        (await storage.directory.getAccountByAddress('carol@example.com'))!.passwordHash,
      ),
    );
    // The operator may insist.
    assert.deepEqual(
      assertOk(
        await admin(['account', 'passwd', 'carol@example.com', '--password-stdin', '--allow-weak-password'], {
          input: `${SHORT_PASSWORD}\n`,
        }),
      ),
      ['changed password of carol@example.com'],
    );
    const carol = await storage.directory.getAccountByAddress('carol@example.com');
    assert.ok(carol && (await verifyPassword(SHORT_PASSWORD, carol.passwordHash)));
    assertInputError(
      await admin(['account', 'add', 'dave@example.com', '--password-stdin', '--allow-weak-password'], { input: '\n' }),
      /empty password/,
    );
    assertInputError(await admin(['domain', 'list', '--allow-weak-password']), /--allow-weak-password does not apply/);
    assertOk(await admin(['account', 'remove', 'carol@example.com']));
  });

  it('removes an account with its mailboxes and mail', async () => {
    assertOk(await admin(['account', 'add', 'gone@example.com', '--password-stdin'], { input: `${PASSWORD}\n` }));
    const gone = (await storage.directory.getAccountByAddress('gone@example.com'))!;
    const [inbox] = await storage.mail.ensureDefaultMailboxes(gone.accountId);
    const text = Buffer.from('Subject: bye\r\n\r\nbye\r\n');
    await storage.blobs.put('messages/gone-1', text);
    await storage.mail.append({
      accountId: gone.accountId,
      mailboxId: inbox.mailboxId,
      blobKey: 'messages/gone-1',
      blobSize: text.length,
    });
    assert.deepEqual(assertOk(await admin(['account', 'remove', 'gone@example.com'])), [
      'removed account gone@example.com',
    ]);
    assert.equal(await storage.directory.getAccountByAddress('gone@example.com'), undefined);
    assert.deepEqual(await storage.mail.listMailboxes(gone.accountId), []);
  });

  it('adds, lists and removes aliases, the catch-all included', async () => {
    assert.deepEqual(
      assertOk(await admin(['alias', 'add', 'Sales@example.com', 'alice@example.com', 'bob@example.com'])),
      ['added alias sales@example.com -> alice@example.com, bob@example.com'],
    );
    assertOk(await admin(['alias', 'add', '@example.com', 'alice@example.com']));
    assertOk(await admin(['alias', 'add', 'ext@example.com', 'someone@remote.example']));
    assert.deepEqual(assertOk(await admin(['alias', 'list'])), [
      '@example.com -> alice@example.com',
      'ext@example.com -> someone@remote.example',
      'sales@example.com -> alice@example.com, bob@example.com',
    ]);
    assert.deepEqual(assertOk(await admin(['alias', 'list', 'example.com'])).length, 3);
    assert.deepEqual(await storage.directory.lookupAddress('@example.com'), {
      kind: 'alias',
      address: '@example.com',
      targets: ['alice@example.com'],
    });

    assertInputError(await admin(['alias', 'add', 'sales@example.com', 'bob@example.com']), /already exists/);
    assertInputError(
      await admin(['alias', 'add', 'alice@example.com', 'bob@example.com']),
      /already exists \(account\)/,
    );
    assertInputError(await admin(['alias', 'add', 'x@nowhere.example', 'bob@example.com']), /unknown domain/);
    assertInputError(await admin(['alias', 'add', 'x@example.com', 'not an address']), /invalid address/);
    assertInputError(await admin(['alias', 'add', 'x@example.com']), /missing argument/);
    assert.equal(await storage.directory.lookupAddress('x@example.com'), undefined);

    assert.deepEqual(assertOk(await admin(['alias', 'remove', '@example.com'])), ['removed alias @example.com']);
    assertOk(await admin(['alias', 'remove', 'ext@example.com']));
    assertInputError(await admin(['alias', 'remove', '@example.com']), /unknown alias @example\.com/);
    assertInputError(await admin(['alias', 'remove', 'alice@example.com']), /unknown alias/);
    assert.deepEqual(assertOk(await admin(['alias', 'list'])), [
      'sales@example.com -> alice@example.com, bob@example.com',
    ]);
  });

  it('refuses to remove a domain while accounts or aliases remain, then removes it once empty', async () => {
    assertInputError(await admin(['domain', 'remove', 'example.com']), /still has 2 accounts and 1 alias;/);
    assert.ok(await storage.directory.getDomain('example.com'));
    assertOk(await admin(['alias', 'remove', 'sales@example.com']));
    assert.deepEqual(assertOk(await admin(['account', 'remove', 'bob@example.com'])), [
      'removed account bob@example.com',
    ]);
    assertInputError(await admin(['account', 'remove', 'bob@example.com']), /unknown account/);
    assertInputError(await admin(['domain', 'remove', 'example.com']), /still has 1 account and 0 aliases;/);
    assertOk(await admin(['account', 'remove', 'alice@example.com']));
    assertOk(await admin(['domain', 'remove', 'example.com']));
    assert.deepEqual(assertOk(await admin(['domain', 'list'])), []);
  });

  it('domain add --postmaster names who gets postmaster@ the domain (RFC 5321 §4.5.1), checked first', async () => {
    assert.deepEqual(
      assertOk(await admin(['domain', 'add', 'pm.example', '--postmaster', 'Boss@PM.example']))[0],
      'added domain pm.example  postmaster=boss@pm.example',
    );
    assert.equal((await storage.directory.getDomain('pm.example'))?.postmaster, 'boss@pm.example');
    assert.deepEqual(assertOk(await admin(['domain', 'list'])), ['pm.example  postmaster=boss@pm.example']);
    const add = (postmaster: string) => admin(['domain', 'add', 'second.example', '--postmaster', postmaster]);
    assertInputError(await add('boss@pm.example'), /unknown account boss@pm\.example/); // not created yet
    assertInputError(await add('x@nowhere.example'), /nowhere\.example is not a domain we serve/);
    assertInputError(await add('Postmaster@second.example'), /must name the account behind postmaster@second/);
    assertInputError(await add('not an address'), /invalid address/);
    assert.equal(await storage.directory.getDomain('second.example'), undefined);

    assertOk(await admin(['account', 'add', 'aaron@pm.example', '--password-stdin'], { input: PASSWORD }));
    assertOk(await admin(['account', 'add', 'boss@pm.example', '--password-stdin'], { input: PASSWORD }));
    const boss = await storage.directory.getAccountByAddress('boss@pm.example');
    const res = await route(storage.directory, { recipient: 'postmaster@pm.example' });
    assert.deepEqual(res.kind === 'local' && res.accountIds, [boss?.accountId]);

    for (const address of ['aaron@pm.example', 'boss@pm.example'])
      assertOk(await admin(['account', 'remove', address]));
    assertOk(await admin(['domain', 'remove', 'pm.example']));
  });

  it('refuses an alias that would loop back to itself, in one line, exit 2, writing nothing', async () => {
    assertOk(await admin(['domain', 'add', 'loops.example']));
    assertOk(await admin(['alias', 'add', 'a@loops.example', 'b@loops.example']));
    assertInputError(
      await admin(['alias', 'add', 'b@loops.example', 'elsewhere@remote.example', 'a@loops.example']),
      /alias b@loops\.example would loop: b@loops\.example -> a@loops\.example -> b@loops\.example$/m,
    );
    // through a +tag and through the catch-all, as delivery would follow them
    assertInputError(
      await admin(['alias', 'add', 'c@loops.example', 'c+tag@loops.example']),
      /c@loops\.example -> c\+tag@loops\.example -> c@loops\.example/,
    );
    assertInputError(
      await admin(['alias', 'add', '@loops.example', 'nobody@loops.example']),
      /alias @loops\.example would loop: @loops\.example -> nobody@loops\.example -> @loops\.example/,
    );
    for (const address of ['b@loops.example', 'c@loops.example', '@loops.example'])
      assert.equal(await storage.directory.lookupAddress(address), undefined, address);
    // a chain that ends somewhere is fine
    assertOk(await admin(['alias', 'add', 'b@loops.example', 'elsewhere@remote.example']));
    assert.deepEqual(assertOk(await admin(['alias', 'list', 'loops.example'])), [
      'a@loops.example -> b@loops.example',
      'b@loops.example -> elsewhere@remote.example',
    ]);
    for (const address of ['a@loops.example', 'b@loops.example']) assertOk(await admin(['alias', 'remove', address]));
    assertOk(await admin(['domain', 'remove', 'loops.example']));
  });

  it('prints DNS records without needing storage', async () => {
    const lines = assertOk(
      await admin(['dns', 'example.org', '--ip', '203.0.113.7'], { dataDir: join(dataDir, 'none') }),
    );
    assert.ok(lines.some((l) => /^example\.org\.\s+IN\s+MX\s+10 mail\.example\.org\.$/.test(l)));
    assert.ok(lines.some((l) => /^mail\.example\.org\.\s+IN\s+A\s+203\.0\.113\.7$/.test(l)));
    assert.ok(lines.some((l) => l.includes('"v=spf1 mx ip4:203.0.113.7 -all"')));
    const hosted = assertOk(await admin(['dns', 'example.org'], { env: { POSTERN_HOSTNAME: 'mx.provider.net' } }));
    assert.ok(hosted.some((l) => /IN\s+MX\s+10 mx\.provider\.net\.$/.test(l)));
    assertInputError(await admin(['dns', 'example.org', '--ip', 'nope']), /invalid IP address/);
  });

  it('works against "AWS" with --aws or POSTERN_ADMIN_TARGET=aws, from the environment alone', async () => {
    const secrets = await startSecretsManager(); // domain add stores the DKIM keys there
    try {
      const env = {
        AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
        AWS_ENDPOINT_URL_S3: endpoints.s3,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        POSTERN_TABLE_PREFIX: prefix,
      };
      assertOk(await admin(['--aws', 'domain', 'add', 'aws.example'], { env, dataDir: join(dataDir, 'none') }));
      const viaVariable = { ...env, POSTERN_ADMIN_TARGET: 'aws' };
      assert.deepEqual(
        assertOk(await admin(['domain', 'list'], { env: viaVariable, dataDir: join(dataDir, 'none') })),
        ['aws.example'],
      );
      assert.ok(await storage.directory.getDomain('aws.example'));
    } finally {
      await secrets.stop();
    }
  });

  it('says so, exit 2, when no emulator is running', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'postern-admin-none-'));
    try {
      const run = await admin(['domain', 'list'], { dataDir: empty });
      assert.equal(run.code, 2);
      assert.equal(run.stdout, '');
      assert.equal(
        run.stderr,
        `postern-admin: no emulator is running for ${empty}; start it with npm start (or use --aws)\n`,
      );
      // A state file left behind by an emulator that has exited counts as none.
      const gone = spawn(process.execPath, ['-e', '']);
      const pid = gone.pid!;
      await new Promise((r) => gone.once('exit', r));
      writeEmulatorState(empty, { pid, endpoints, tablePrefix: prefix, startedAt: new Date().toISOString() });
      const stale = await admin(['account', 'list'], { dataDir: empty });
      assertInputError(stale, /^postern-admin: no emulator is running for /);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('blobs sweep deletes orphan blobs older than the grace, keeps referenced and young ones', async () => {
    assertOk(await admin(['domain', 'add', 'sweep.example']));
    assertOk(await admin(['account', 'add', 'me@sweep.example', '--password-stdin'], { input: `${PASSWORD}\n` }));
    const account = (await storage.directory.getAccountByAddress('me@sweep.example'))!;
    const [inbox] = await storage.mail.ensureDefaultMailboxes(account.accountId);
    const text = Buffer.from('Subject: kept\r\n\r\nkept\r\n');
    await storage.blobs.put('messages/sweep-used', text);
    await storage.mail.append({ ...inbox, blobKey: 'messages/sweep-used', blobSize: text.length });
    await storage.blobs.put('messages/sweep-orphan', Buffer.from('uploaded, never appended'));
    await storage.blobs.put('elsewhere/sweep-orphan', Buffer.from('not a message blob'));
    const listed = async () => {
      const keys: string[] = [];
      for await (const { key } of storage.blobs.list('messages/')) keys.push(key);
      return keys;
    };
    const before = await listed(); // earlier cases' blobs too, all young
    assert.ok(before.includes('messages/sweep-orphan') && before.includes('messages/sweep-used'));

    // the default grace (an hour): everything here was written moments ago
    assert.deepEqual(assertOk(await admin(['blobs', 'sweep'])), [
      `checked ${before.length} blobs under messages/: deleted 0, kept ${before.length}`,
    ]);
    assert.deepEqual(await listed(), before, 'young blobs kept');

    // with no grace, every unreferenced blob is old enough
    assert.deepEqual(assertOk(await admin(['blobs', 'sweep', '--grace', '0'])), [
      `checked ${before.length} blobs under messages/: deleted ${before.length - 1}, kept 1`,
    ]);
    assert.deepEqual(await listed(), ['messages/sweep-used'], 'the referenced blob kept, the orphans gone');
    assert.equal((await storage.mail.getMessage(inbox, 1))?.blobKey, 'messages/sweep-used');
    assert.ok((await storage.blobs.head('elsewhere/sweep-orphan')) !== undefined, 'only the message prefix is swept');

    assertInputError(await admin(['blobs', 'sweep', '--grace', 'soon']), /invalid duration "soon"/);
    assertInputError(await admin(['blobs', 'sweep', 'now']), /too many arguments/);
    assertInputError(await admin(['blobs', 'purge']), /unknown command blobs purge \(sweep\)/);
    assertInputError(await admin(['domain', 'list', '--grace', '1h']), /--grace does not apply/);
  });

  it('never printed a password', () => {
    const all = printed.join('\n');
    for (const secret of [PASSWORD, NEW_PASSWORD, BOB_PASSWORD, SHORT_PASSWORD])
      assert.ok(!all.includes(secret), secret);
  });
});
