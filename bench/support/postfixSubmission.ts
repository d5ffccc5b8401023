/**
 * Debian's Postfix as a submission server for the submission benchmark: its own instance in a temp dir
 * (`postfix -c DIR start`), smtpd on a free loopback port with STARTTLS required, AUTH PLAIN through Cyrus
 * SASL (sasldb, plain password, made with saslpasswd2 from Debian's sasl2-bin), only authenticated clients may
 * relay, and only as their own address (reject_sender_login_mismatch, as Postern checks MAIL FROM); every
 * message is relayed to `relay` (relayhost, no TLS, as Postern's smarthost transport is set up in the bench).
 *
 * Without saslpasswd2 it falls back to relaying for 127.0.0.1 (mynetworks) without AUTH, and says so in
 * `mode`. Needs root (Postfix drops to its own user).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '../../local/ports.ts';
import { instanceMainCf, masterCf } from '../../test/support/postfix.ts';

const POSTFIX = '/usr/sbin/postfix';
const SASLPASSWD = '/usr/sbin/saslpasswd2';

export type PostfixAuthMode = 'sasl' | 'mynetworks';

export interface PostfixSubmission {
  readonly port: number;
  readonly mode: PostfixAuthMode;
  readonly version: string;
  /** The master process (every Postfix process is below it; exited ones are in its children's CPU time). */
  masterPid(): number;
  stop(): void;
}

export interface PostfixSubmissionOptions {
  readonly user: { readonly address: string; readonly pass: string };
  readonly relay: { readonly host: string; readonly port: number };
  readonly tls: { readonly key: string; readonly cert: string };
}

function authSettings(mode: PostfixAuthMode, dir: string, address: string): string {
  if (mode === 'mynetworks') {
    return `smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
`;
  }
  return `smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = ${dir}/etc/sasl
smtpd_sasl_security_options = noanonymous
smtpd_tls_auth_only = yes
smtpd_sender_login_maps = inline:{ ${address}=${address} }
smtpd_sender_restrictions = reject_sender_login_mismatch
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
`;
}

function mainCf(dir: string, mode: PostfixAuthMode, opts: PostfixSubmissionOptions): string {
  return `${instanceMainCf(dir, 'submission.bench.test')}relayhost = [${opts.relay.host}]:${opts.relay.port}
smtp_tls_security_level = none
smtpd_tls_security_level = ${mode === 'sasl' ? 'encrypt' : 'may'}
smtpd_tls_cert_file = ${dir}/etc/cert.pem
smtpd_tls_key_file = ${dir}/etc/key.pem
biff = no
${authSettings(mode, dir, opts.user.address)}`;
}

/** The sasldb with the one user, readable by smtpd (which runs as postfix); false without saslpasswd2. */
function makeSaslDb(dir: string, address: string, pass: string): boolean {
  if (!existsSync(SASLPASSWD)) return false;
  const at = address.lastIndexOf('@');
  // Debian's Postfix reads smtpd.conf from $config_directory/sasl whatever cyrus_sasl_config_path says
  const sasl = join(dir, 'etc', 'sasl');
  const db = join(sasl, 'sasldb2');
  mkdirSync(sasl);
  const made = spawnSync(SASLPASSWD, ['-f', db, '-c', '-p', '-u', address.slice(at + 1), address.slice(0, at)], {
    input: pass,
  });
  if (made.status !== 0) throw new Error(`saslpasswd2 failed: ${made.stderr}`);
  writeFileSync(
    join(sasl, 'smtpd.conf'),
    `pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: ${db}\n`,
  );
  chownSync(db, Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim()), 0);
  chmodSync(db, 0o600);
  return true;
}

export async function startPostfixSubmission(opts: PostfixSubmissionOptions): Promise<PostfixSubmission> {
  if (!existsSync(POSTFIX)) throw new Error('postfix is not installed (apt-get install postfix)');
  if (process.getuid?.() !== 0) throw new Error('the Postfix comparison needs root (Postfix drops to its own user)');
  const dir = mkdtempSync(join(tmpdir(), 'postern-bench-postfix-'));
  chmodSync(dir, 0o755);
  for (const sub of ['etc', 'queue', 'data']) mkdirSync(join(dir, sub));
  chownSync(join(dir, 'data'), Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim()), 0);
  writeFileSync(join(dir, 'etc/key.pem'), opts.tls.key, { mode: 0o600 });
  writeFileSync(join(dir, 'etc/cert.pem'), opts.tls.cert);
  const mode: PostfixAuthMode = makeSaslDb(dir, opts.user.address, opts.user.pass) ? 'sasl' : 'mynetworks';
  const port = await freePort();
  writeFileSync(join(dir, 'etc/main.cf'), mainCf(dir, mode, opts));
  writeFileSync(join(dir, 'etc/master.cf'), masterCf(port));
  const etc = join(dir, 'etc');
  const stop = () => {
    spawnSync(POSTFIX, ['-c', etc, 'stop'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  const started = spawnSync(POSTFIX, ['-c', etc, 'start'], { encoding: 'utf8' });
  try {
    if (started.status !== 0) throw new Error(started.stderr);
    await waitForPort('127.0.0.1', port, 15_000);
  } catch (err) {
    const log = existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8') : '';
    stop();
    throw new Error(`postfix did not start: ${(err as Error).message}\n${log}`);
  }
  const version = spawnSync('/usr/sbin/postconf', ['-h', 'mail_version'], { encoding: 'utf8' }).stdout.trim();
  return {
    port,
    mode,
    version,
    masterPid: () => Number(readFileSync(join(dir, 'queue', 'pid', 'master.pid'), 'utf8').trim()),
    stop,
  };
}
