/**
 * Debian's Postfix as a receiving MTA for the outbound tests: its own instance in a temporary directory
 * (`postfix -c DIR start`), listening on 127.0.0.1 on a free port, STARTTLS offered with a throwaway
 * certificate, mail for remote.test delivered into Maildirs under DIR/mail. Recipients: ok, ok1, ok2 take
 * mail; soft gets 450 (check_recipient_access); anyone else 550 5.1.1 (not in the virtual mailbox table).
 * Needs root (Postfix drops to its own user); `startPostfix` returns undefined when it cannot run here.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, testCertificate } from './smtpSink.ts';

export interface Postfix {
  readonly port: number;
  /** The messages in a mailbox's Maildir (new/), waiting up to `waitMs` for `count` of them. */
  delivered(user: string, count?: number, waitMs?: number): Promise<Buffer[]>;
  readonly log: () => string;
  /** Changes main.cf settings (postconf -e) and reloads; new sessions see them. */
  reconfigure(settings: Readonly<Record<string, string>>): Promise<void>;
  stop(): void;
}

const POSTFIX = '/usr/sbin/postfix';
const MAILBOXES = ['ok', 'ok1', 'ok2', 'soft'];

/** The main.cf lines every private Postfix instance here has: its own directories, loopback, a log file. */
export function instanceMainCf(dir: string, hostname: string): string {
  return `compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = ${hostname}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file_prefixes = ${dir}
maillog_file = ${dir}/maillog
`;
}

function mainCf(dir: string): string {
  return `${instanceMainCf(dir, 'sink.remote.test')}mydomain = remote.test
virtual_mailbox_domains = remote.test
virtual_mailbox_base = ${dir}/mail
virtual_mailbox_maps = inline:{${MAILBOXES.map((m) => `${m}@remote.test=${m}/`).join(', ')}}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtpd_recipient_restrictions = check_recipient_access inline:{ { soft@remote.test = 450 4.2.1 Mailbox busy } }, permit_mynetworks, reject
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_tls_security_level = may
smtpd_tls_cert_file = ${dir}/etc/cert.pem
smtpd_tls_key_file = ${dir}/etc/key.pem
smtpd_tls_received_header = yes
biff = no
# Leave the message as sent (no Message-ID or Date added for 127.0.0.1), and log every SMTP command.
local_header_rewrite_clients =
debug_peer_list = 127.0.0.1
debug_peer_level = 2
`;
}

/** The services a receiving instance needs (no chroot), smtpd on the chosen port (the submission bench's too). */
export function masterCf(port: number): string {
  const services = [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'tlsmgr unix - - n 1000? 1 tlsmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'local unix - n n - - local',
    'virtual unix - n n - - virtual',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  return `${services.join('\n')}\n`;
}

async function listening(port: number, deadline: number): Promise<boolean> {
  const { connect } = await import('node:net');
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export async function startPostfix(): Promise<Postfix | undefined> {
  if (!existsSync(POSTFIX) || process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'postern-postfix-'));
  chmodSync(dir, 0o755);
  for (const sub of ['etc', 'queue', 'data', 'mail']) mkdirSync(join(dir, sub));
  const ids = (name: string) => Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  chownSync(join(dir, 'data'), ids('postfix'), 0);
  chownSync(join(dir, 'mail'), 65534, 65534);
  const { key, cert } = await testCertificate();
  writeFileSync(join(dir, 'etc/key.pem'), key, { mode: 0o600 });
  writeFileSync(join(dir, 'etc/cert.pem'), cert);
  const port = await closedPort();
  writeFileSync(join(dir, 'etc/main.cf'), mainCf(dir));
  writeFileSync(join(dir, 'etc/master.cf'), masterCf(port));
  const log = () => (existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8') : '');
  const stop = () => {
    spawnSync(POSTFIX, ['-c', join(dir, 'etc'), 'stop'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  spawnSync(POSTFIX, ['-c', join(dir, 'etc'), 'start'], { stdio: 'ignore' });
  if (!(await listening(port, Date.now() + 15_000))) {
    const text = log();
    stop();
    throw new Error(`postfix did not start:\n${text}`);
  }
  const delivered = async (user: string, count = 1, waitMs = 15_000) => {
    const box = join(dir, 'mail', user, 'new');
    const deadline = Date.now() + waitMs;
    for (;;) {
      const files = existsSync(box) ? readdirSync(box).sort() : [];
      if (files.length >= count || Date.now() > deadline) return files.map((f) => readFileSync(join(box, f)));
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const reconfigure = async (settings: Readonly<Record<string, string>>) => {
    const edits = Object.entries(settings).map(([k, v]) => `${k} = ${v}`);
    spawnSync('/usr/sbin/postconf', ['-c', join(dir, 'etc'), '-e', ...edits], { stdio: 'ignore' });
    const reloadedAt = log().length;
    spawnSync(POSTFIX, ['-c', join(dir, 'etc'), 'reload'], { stdio: 'ignore' });
    // The master logs the reload; smtpd processes started afterwards read the new main.cf.
    const deadline = Date.now() + 10_000;
    while (!log().slice(reloadedAt).includes('reload') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
  };
  return { port, delivered, log, reconfigure, stop };
}
