/**
 * All configuration, read once: `loadConfig(env)` builds every option set (network, SMTP, POP3, IMAP,
 * authentication, gateway wiring, AWS names) from the environment, and the result is passed down through the
 * dependencies. Nothing below the entry points (lib/gateway/main.ts, the Lambda wiring, the emulator, the
 * admin CLI) reads process.env. A malformed value or an unknown POSTERN_* name fails at start, with the name.
 * Every setting is documented in the README.
 */
import type { LogLevel } from './log.ts';
import type { InvokedFunction } from './ports.ts';
import { DKIM_SECRET_PREFIX, namesFromSettings, type StorageNames } from './schema.ts';
import { ConfigError, type Env, SettingsReader, unknownSettings } from './settings.ts';

export { ConfigError } from './settings.ts';

export interface ListenerPorts {
  readonly smtp: number;
  readonly submission: number;
  readonly submissions: number;
  readonly pop3: number;
  readonly pop3s: number;
  readonly imap: number;
  readonly imaps: number;
}
export type ListenerName = keyof ListenerPorts;

/** The environment variable of each listener's port. */
export const PORT_ENV: Readonly<Record<ListenerName, string>> = {
  smtp: 'POSTERN_SMTP_PORT',
  submission: 'POSTERN_SUBMISSION_PORT',
  submissions: 'POSTERN_SUBMISSIONS_PORT',
  pop3: 'POSTERN_POP3_PORT',
  pop3s: 'POSTERN_POP3S_PORT',
  imap: 'POSTERN_IMAP_PORT',
  imaps: 'POSTERN_IMAPS_PORT',
};

const DEFAULT_PORTS: ListenerPorts = {
  smtp: 2525,
  submission: 2587,
  submissions: 2465,
  pop3: 2110,
  pop3s: 2995,
  imap: 2143,
  imaps: 2993,
};

/** Every listener on a port the kernel picks (tests and benchmarks; Listener.port tells which). */
export const EPHEMERAL_PORTS_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(PORT_ENV).map((name) => [name, '0']),
);

/** Listeners whose connection cap is set together: 587 and 465 share one setting, 110 and 995, 143 and 993. */
export type ListenerFamily = 'smtp' | 'submission' | 'pop3' | 'imap';

export const LISTENER_FAMILY: Readonly<Record<ListenerName, ListenerFamily>> = {
  smtp: 'smtp',
  submission: 'submission',
  submissions: 'submission',
  pop3: 'pop3',
  pop3s: 'pop3',
  imap: 'imap',
  imaps: 'imap',
};

/** The shared TCP accept path (lib/net/tcpListener.ts). */
export interface NetConfig {
  /** Address the listeners bind to. */
  readonly host: string;
  /** Whether listeners expect a PROXY protocol v2 header first (behind the NLB). */
  readonly proxyProtocol: boolean;
  /** Most simultaneous connections from one client IP, per listener. */
  readonly maxConnectionsPerIp: number;
  /**
   * Most connections open at once on each listener of a family (each of 587 and 465 has the submission cap),
   * all clients together. The gateway scales these down at start when they do not fit the process's
   * file-descriptor limit less `fdReserve` (lib/net/connectionBudget.ts).
   */
  readonly maxConnections: Readonly<Record<ListenerFamily, number>>;
  /** File descriptors kept out of the listeners' caps: storage connections (S3, DynamoDB, Lambda), files. */
  readonly fdReserve: number;
  /** Idle timeout of every protocol on a listener under stress (above 75% of its cap), like Postfix's ${stress?10}. */
  readonly stressIdleTimeoutMs: number;
  /** Time a TLS handshake may take: implicit TLS (465, 995, 993), STARTTLS and STLS. */
  readonly tlsHandshakeTimeoutMs: number;
}

export interface SmtpConfig {
  /** Largest message accepted, in bytes (SMTP SIZE). */
  readonly maxMessageSize: number;
  /** Most recipients per SMTP transaction. */
  readonly maxRecipients: number;
  /** Idle time allowed between commands (RFC 5321 §4.5.3.2.7: the server waits at least 5 minutes). */
  readonly commandTimeoutMs: number;
  /** Idle time allowed while the message text is being received (between two data blocks). */
  readonly dataTimeoutMs: number;
  /** Longest command line in octets including CRLF (RFC 5321 §4.5.3.1.4 is 512; ESMTP parameters add to it). */
  readonly maxCommandLength: number;
  /** Longest line of message text in octets including CRLF (RFC 5321 §4.5.3.1.6 says 1000; we are lenient). */
  readonly maxDataLineLength: number;
  /** Received headers a message may already carry before we call it a loop (RFC 5321 §6.3: at least 100). */
  readonly maxReceivedHeaders: number;
  /** Replies of class 5xx to one client before the session is closed with 421. */
  readonly maxErrors: number;
  /**
   * Once a command line has started, the time until its CRLF: every byte restarts an idle timer, so a client
   * trickling a byte at a time is never idle; this deadline is not extended by partial bytes.
   */
  readonly lineTimeoutMs: number;
  /**
   * Least bytes per second of message text, checked over each `dataRateWindowMs` (0: not checked). A client
   * sending tiny blocks just inside dataTimeoutMs could otherwise keep DATA open forever. Postfix's
   * smtpd_min_data_rate is 500.
   */
  readonly minDataRate: number;
  readonly dataRateWindowMs: number;
  /** Longest SMTP session, whatever the client does; a transaction the server is deciding on is finished first. */
  readonly sessionTimeoutMs: number;
  /**
   * Commands that make no progress (NOOP, RSET, VRFY, EXPN, HELP, unknown) allowed in a session, counted anew
   * after each accepted message; one more ends the session with 421 (Postfix's smtpd_junk_command_limit).
   */
  readonly maxJunkCommands: number;
  /** How long a route result is reused for the same recipient (DESIGN.md: cache briefly). */
  readonly routeCacheMs: number;
  /** Attempts at the store step of one transaction (the step is idempotent, so retrying is safe). */
  readonly storeAttempts: number;
  /** Pause before the next store attempt, doubled each time. */
  readonly retryDelayMs: number;
  /** Memory for message text in flight, all SMTP connections of the process together. */
  readonly bodyMemoryBytes: number;
  /** How long a transaction waits for that memory before answering 451 4.3.1. */
  readonly bodyMemoryWaitMs: number;
}

/** Message submission (587, 465; RFC 6409): what one authenticated account may send. */
export interface SubmissionConfig {
  /** Messages one account may submit per hour, all its sessions on this task together (451 4.7.1 past it). */
  readonly maxMessagesPerHour: number;
  /** Recipients per message (452 4.5.3 past it). */
  readonly maxRecipients: number;
  /** Largest header block of a submitted message; the From check reads it whole (552 5.3.4 past it). */
  readonly maxHeaderBytes: number;
}

export interface Pop3Config {
  /** RFC 1939 §3 autologout timer (default 10 minutes, the RFC's minimum). */
  readonly idleTimeoutMs: number;
  /** Maildrop lease time to live (renewed every third of it). */
  readonly leaseMs: number;
  /** Errors tolerated per connection before it is closed. */
  readonly maxErrors: number;
}

export interface ImapConfig {
  /** RFC 9051 §5.4 autologout timer (default 30 minutes, the RFC's minimum). */
  readonly idleTimeoutMs: number;
  /** Errors tolerated per connection before it is closed. */
  readonly maxErrors: number;
  /** Largest message APPEND takes, in octets (RFC 7889 APPENDLIMIT; default 50 MiB). */
  readonly appendLimit: number;
  /** How often a session in IDLE checks the store itself, for changes no in-process notifier saw (30 s). */
  readonly idlePollMs: number;
}

/**
 * How commits reach IMAP sessions in IDLE. `in-process`: only this process's commits (one gateway that runs the
 * store step itself). `cross-task`: also every other writer's, as notices from the notify function (or the
 * emulator's stream poller) to a UDP listener, found through this task's presence record.
 */
export interface NotifyConfig {
  readonly mode: 'in-process' | 'cross-task';
  /** Where the notice listener binds (loopback unless configured: the stack sets 0.0.0.0 behind its SG). */
  readonly host: string;
  /** Its UDP port; 0 takes a free one (the presence record says which). */
  readonly port: number;
  /** The address other hosts reach it at; unset: the host, or this machine's first private IPv4 for 0.0.0.0. */
  readonly advertiseAddress?: string;
  /** How often the task itself reads each mailbox in use, in case a notice was lost (5 minutes). */
  readonly backstopMs: number;
}

/** Brute-force protection of password logins (lib/auth/authenticator.ts). */
export interface AuthConfig {
  /** Delay before answering any refused login. */
  readonly failureDelayMs: number;
  /** Failures one client address may make against one account before backoff (0: no pair table). */
  readonly maxFailuresPerPair: number;
  /** Failures one client address may make, all accounts together, before backoff (0: no address table). */
  readonly maxFailuresPerIp: number;
  /** First wait once past a budget; doubled with each further failure. */
  readonly backoffMs: number;
  /** Longest wait. */
  readonly maxBackoffMs: number;
  /** Failures are forgotten this long after the latest one; keep it above maxBackoffMs. */
  readonly windowMs: number;
  /** Failed logins per hour one account takes from addresses it has not logged in from (0: no cap). */
  readonly accountFailuresPerHour: number;
}

/** Where the gateway's certificate comes from. */
export type TlsSource =
  | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string; readonly reloadMs: number }
  | {
      readonly kind: 'secret';
      readonly secretArn: string;
      /** Secrets Manager endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL); unset is real AWS. */
      readonly endpoint?: string;
      readonly region?: string;
      readonly reloadMs: number;
    }
  | { readonly kind: 'none' };

/** Where the mail-logic functions run: in this process (the emulator) or as deployed Lambdas. */
export type InvokerConfig =
  | { readonly kind: 'local' }
  | { readonly kind: 'lambda'; readonly functionNames: Readonly<Record<InvokedFunction, string>> };

/**
 * Where the AWS clients point. Unset endpoints mean real AWS (credentials and region from the usual chain);
 * the emulator and tests set them, and so does anyone who exports the standard AWS_ENDPOINT_URL_* variables.
 */
export interface AwsEndpoints {
  readonly s3?: string;
  readonly dynamodb?: string;
  readonly region?: string;
  /** SESv2 (AWS_ENDPOINT_URL_SESV2 only, the SDK's own name for it): the tests' SES stand-in. */
  readonly ses?: string;
  /** The key pair of the emulator's S3 stand-in, which checks every request's signature (local/s3/auth.ts). */
  readonly s3Credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface AwsConfig {
  readonly endpoints: AwsEndpoints;
  readonly names: StorageNames;
}

/** How outbound mail leaves: Amazon SES, a smarthost, the recipient domain's MX, or the local outbox. */
export type TransportName = 'outbox' | 'smarthost' | 'mx' | 'ses';
export const TRANSPORT_NAMES: readonly TransportName[] = ['outbox', 'smarthost', 'mx', 'ses'];

/** The relay of the smarthost transport (POSTERN_SMARTHOST=host:port and its AUTH and TLS settings). */
export interface SmarthostConfig {
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  readonly password?: string;
  /** starttls: STARTTLS required; implicit: TLS from the first byte (465); none: plaintext (tests, a local relay). */
  readonly tls: 'starttls' | 'implicit' | 'none';
}

/** The outbound queue and its runner (lib/outbound). */
export interface OutboundConfig {
  /** Seconds between attempts: the first after the first attempt, and so on; the last one repeats. */
  readonly retrySchedule: readonly number[];
  /** Age after which recipients still deferred become failed (Postfix's maximal_queue_lifetime, 5 days). */
  readonly queueLifetimeMs: number;
  /** Age of a still-deferred message at which its sender gets a delay notice (RFC 3464 "delayed"), 4 hours. */
  readonly delayWarningMs: number;
  readonly transport: TransportName;
  /** Set when the transport is smarthost. */
  readonly smarthost?: SmarthostConfig;
  /** How often the emulator's gateway runs a queue pass (in AWS an EventBridge rule does, every minute). */
  readonly pollMs: number;
  /** Queue entries one pass delivers at the same time. */
  readonly concurrency: number;
  /** Our name in EHLO, Reporting-MTA and MAILER-DAEMON@ (POSTERN_HOSTNAME, as the gateway's). */
  readonly hostname: string;
  /** The emulator's data directory (the outbox, the local DKIM keys); unset in AWS. */
  readonly dataDir?: string;
  /**
   * The SES configuration set the ses transport sends with (POSTERN_SES_CONFIGURATION_SET): its event
   * destination brings bounces and complaints back to the sesFeedback function. The stack sets it.
   */
  readonly sesConfigurationSet?: string;
}

/** Postfix's defaults as a schedule: 5 minutes, doubling, at most 4000 s between attempts (Postfix's maximal_backoff_time). */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [300, 300, 600, 1200, 2400, 4000];

/** Where the DKIM private keys are (lib/storage/dkimKeyStore.ts opens them). */
export interface DkimConfig {
  /** `local`: 0600 files under <data dir>/dkim (the emulator); `secrets-manager`: one secret per domain (AWS). */
  readonly store: 'local' | 'secrets-manager';
  /** Prefix of the secrets' names: `<prefix><domain>`. */
  readonly secretPrefix: string;
  /** Secrets Manager endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL); unset is real AWS. */
  readonly secretsEndpoint?: string;
  readonly region?: string;
}

/** Forwarding to remote alias targets (lib/delivery/srs.ts). Without a secret, such aliases are refused at RCPT. */
export interface ForwardingConfig {
  /** POSTERN_SRS_SECRET: the HMAC key of SRS addresses (at least 16 characters; keep it across restarts). */
  readonly srsSecret?: string;
  /** POSTERN_SRS_PREVIOUS_SECRETS (comma-separated): keys of before a rotation, still accepted on bounces. */
  readonly srsPreviousSecrets: readonly string[];
  /** How long a bounce to an SRS address of ours is accepted (POSTERN_SRS_MAX_AGE_DAYS, 21). */
  readonly srsMaxAgeDays: number;
}

export interface Config {
  /** Name in greetings, Received headers and the certificate. */
  readonly hostname: string;
  readonly ports: ListenerPorts;
  /** Whether passwords may be sent before TLS: only when every listener is on loopback (the emulator). */
  readonly allowPlaintextAuth: boolean;
  readonly net: NetConfig;
  readonly smtp: SmtpConfig;
  readonly submission: SubmissionConfig;
  readonly pop3: Pop3Config;
  readonly imap: ImapConfig;
  readonly auth: AuthConfig;
  readonly tls: TlsSource;
  readonly invoker: InvokerConfig;
  readonly aws: AwsConfig;
  readonly outbound: OutboundConfig;
  readonly dkim: DkimConfig;
  readonly forwarding: ForwardingConfig;
  readonly notify: NotifyConfig;
  /** Grace period for sessions when the gateway stops (SIGTERM). */
  readonly drainMs: number;
  readonly logLevel: LogLevel;
  /** How often the gateway writes its metrics (EMF lines on stdout); 0: not at all. */
  readonly metricsFlushMs: number;
}

/**
 * POSTERN_* variables read by other programs than the gateway: the emulator, the admin CLI, the tests and
 * the benchmarks. Names ending in `_` are prefixes.
 */
const OTHER_PROGRAMS_SETTINGS = [
  'POSTERN_DATA_DIR',
  'POSTERN_QUIET',
  'POSTERN_ADMIN_TARGET',
  'POSTERN_DYNAMODB_PORT',
  'POSTERN_S3_PORT',
  'POSTERN_GATEWAYS',
  'POSTERN_TEST_',
  'POSTERN_GATEWAY_',
  'POSTERN_S3_',
] as const;

/** Whether `host` (a listener's bind address) is reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function readPorts(s: SettingsReader): ListenerPorts {
  const entries = Object.entries(PORT_ENV).map(([key, name]) => [
    key,
    s.int(name, DEFAULT_PORTS[key as ListenerName], 0, 65535),
  ]);
  return Object.fromEntries(entries) as unknown as ListenerPorts;
}

/** Per listener: one MX, and two listeners for each of the other families (a total of 6,000 by default). */
const DEFAULT_MAX_CONNECTIONS: Readonly<Record<ListenerFamily, number>> = {
  smtp: 1000,
  submission: 500,
  pop3: 1000,
  imap: 1000,
};

function readNet(s: SettingsReader, host: string): NetConfig {
  const cap = (family: ListenerFamily) =>
    s.int(`POSTERN_MAX_CONNECTIONS_${family.toUpperCase()}`, DEFAULT_MAX_CONNECTIONS[family], 1);
  return {
    host,
    proxyProtocol: s.bool('POSTERN_PROXY_PROTOCOL', false),
    maxConnectionsPerIp: s.int('POSTERN_MAX_CONNECTIONS_PER_IP', 20, 1),
    maxConnections: { smtp: cap('smtp'), submission: cap('submission'), pop3: cap('pop3'), imap: cap('imap') },
    fdReserve: s.int('POSTERN_FD_RESERVE', 1024),
    stressIdleTimeoutMs: s.int('POSTERN_STRESS_IDLE_TIMEOUT_MS', 10_000, 1),
    tlsHandshakeTimeoutMs: s.int('POSTERN_TLS_HANDSHAKE_TIMEOUT_MS', 10_000, 1),
  };
}

function readSmtp(s: SettingsReader): SmtpConfig {
  return {
    maxMessageSize: s.int('POSTERN_MAX_MESSAGE_SIZE', 40 * 1024 * 1024, 1024),
    maxRecipients: s.int('POSTERN_MAX_RECIPIENTS', 100, 1),
    commandTimeoutMs: s.int('POSTERN_SMTP_COMMAND_TIMEOUT_MS', 5 * 60_000, 1),
    dataTimeoutMs: s.int('POSTERN_SMTP_DATA_TIMEOUT_MS', 3 * 60_000, 1),
    maxCommandLength: s.int('POSTERN_SMTP_MAX_COMMAND_LENGTH', 2048, 512),
    maxDataLineLength: s.int('POSTERN_SMTP_MAX_DATA_LINE_LENGTH', 64 * 1024, 1000),
    maxReceivedHeaders: s.int('POSTERN_SMTP_MAX_RECEIVED', 100, 1),
    maxErrors: s.int('POSTERN_SMTP_MAX_ERRORS', 20, 1),
    lineTimeoutMs: s.int('POSTERN_SMTP_LINE_TIMEOUT_MS', 60_000, 1),
    minDataRate: s.int('POSTERN_SMTP_MIN_DATA_RATE', 500),
    dataRateWindowMs: s.int('POSTERN_SMTP_DATA_RATE_WINDOW_MS', 60_000, 1),
    sessionTimeoutMs: s.int('POSTERN_SMTP_SESSION_TIMEOUT_MS', 60 * 60_000, 1),
    maxJunkCommands: s.int('POSTERN_SMTP_MAX_JUNK_COMMANDS', 100, 1),
    routeCacheMs: s.int('POSTERN_SMTP_ROUTE_CACHE_MS', 5000),
    storeAttempts: s.int('POSTERN_SMTP_STORE_ATTEMPTS', 3, 1),
    retryDelayMs: s.int('POSTERN_SMTP_RETRY_DELAY_MS', 200),
    bodyMemoryBytes: s.int('POSTERN_SMTP_BODY_MEMORY', 64 * 1024 * 1024, 1024 * 1024),
    bodyMemoryWaitMs: s.int('POSTERN_SMTP_BODY_MEMORY_WAIT_MS', 30_000, 1),
  };
}

function readSubmission(s: SettingsReader): SubmissionConfig {
  return {
    maxMessagesPerHour: s.int('POSTERN_SUBMISSION_MAX_MESSAGES_PER_HOUR', 500, 1),
    maxRecipients: s.int('POSTERN_SUBMISSION_MAX_RECIPIENTS', 100, 1),
    maxHeaderBytes: s.int('POSTERN_SUBMISSION_MAX_HEADER_BYTES', 256 * 1024, 1024),
  };
}

function readPop3(s: SettingsReader): Pop3Config {
  return {
    idleTimeoutMs: s.int('POSTERN_POP3_IDLE_MS', 10 * 60_000, 1),
    leaseMs: s.int('POSTERN_POP3_LEASE_MS', 60_000, 30),
    maxErrors: s.int('POSTERN_POP3_MAX_ERRORS', 10, 1),
  };
}

function readImap(s: SettingsReader): ImapConfig {
  return {
    idleTimeoutMs: s.int('POSTERN_IMAP_IDLE_MS', 30 * 60_000, 1),
    maxErrors: s.int('POSTERN_IMAP_MAX_ERRORS', 10, 1),
    appendLimit: s.int('POSTERN_IMAP_APPEND_LIMIT', 50 * 1024 * 1024, 1),
    idlePollMs: s.int('POSTERN_IMAP_IDLE_POLL_MS', 30_000, 10),
  };
}

function readNotify(s: SettingsReader): NotifyConfig {
  return {
    mode: s.oneOf('POSTERN_NOTIFY', ['in-process', 'cross-task'] as const, 'in-process'),
    host: s.string('POSTERN_NOTIFY_HOST', '127.0.0.1'),
    port: s.int('POSTERN_NOTIFY_PORT', 0, 0, 65535),
    advertiseAddress: s.optional('POSTERN_NOTIFY_ADDRESS'),
    backstopMs: s.int('POSTERN_NOTIFY_BACKSTOP_MS', 300_000, 100),
  };
}

function readAuth(s: SettingsReader): AuthConfig {
  return {
    failureDelayMs: s.int('POSTERN_AUTH_FAILURE_DELAY_MS', 1000),
    maxFailuresPerPair: s.int('POSTERN_AUTH_MAX_FAILURES_PAIR', 5),
    maxFailuresPerIp: s.int('POSTERN_AUTH_MAX_FAILURES_IP', 20),
    backoffMs: s.int('POSTERN_AUTH_BACKOFF_MS', 2000, 1),
    maxBackoffMs: s.int('POSTERN_AUTH_MAX_BACKOFF_MS', 15 * 60_000, 1),
    windowMs: s.int('POSTERN_AUTH_WINDOW_MS', 60 * 60_000),
    accountFailuresPerHour: s.int('POSTERN_AUTH_ACCOUNT_FAILURES_PER_HOUR', 60),
  };
}

function readTls(s: SettingsReader, env: Env): TlsSource {
  const certFile = s.optional('POSTERN_TLS_CERT_FILE');
  const keyFile = s.optional('POSTERN_TLS_KEY_FILE');
  const secretArn = s.optional('POSTERN_TLS_SECRET_ARN');
  // How often the gateway looks for a renewed certificate (a stat of the files, DescribeSecret for a secret).
  const reloadMs = s.int('POSTERN_TLS_RELOAD_MS', 5 * 60_000, 1000);
  if (!!certFile !== !!keyFile) {
    throw new ConfigError('POSTERN_TLS_CERT_FILE and POSTERN_TLS_KEY_FILE must be set together');
  }
  if (certFile && keyFile) return { kind: 'files', certFile, keyFile, reloadMs };
  if (secretArn) {
    const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL || undefined;
    return { kind: 'secret', secretArn, endpoint, region: env.AWS_REGION || undefined, reloadMs };
  }
  return { kind: 'none' };
}

function readInvoker(s: SettingsReader): InvokerConfig {
  const kind = s.oneOf('POSTERN_INVOKER', ['local', 'lambda'] as const, 'lambda');
  const functionNames = {
    route: s.optional('POSTERN_FN_ROUTE'),
    filter: s.optional('POSTERN_FN_FILTER'),
    store: s.optional('POSTERN_FN_STORE'),
    deliver: s.optional('POSTERN_FN_DELIVER'),
  };
  if (kind === 'local') return { kind };
  return { kind, functionNames: functionNames as Record<InvokedFunction, string> };
}

/** Comma-separated whole seconds, each at least 1: `300,600,1200`. */
export function parseRetrySchedule(name: string, raw: string): number[] {
  const parts = raw.split(',').map((p) => p.trim());
  if (!parts.every((p) => /^\d+$/.test(p) && Number(p) >= 1 && Number.isSafeInteger(Number(p)))) {
    throw new ConfigError(`${name} must be comma-separated whole seconds (each >= 1), got ${JSON.stringify(raw)}`);
  }
  return parts.map(Number);
}

const DURATION_MS: Readonly<Record<string, number>> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: seconds, or a number with s, m, h or d (`5d`, `4h`, `90s`), as Postfix writes them. */
function readDuration(s: SettingsReader, name: string, fallbackMs: number): number {
  const raw = s.raw(name);
  if (raw === undefined) return fallbackMs;
  const match = /^(\d+)([smhd]?)$/.exec(raw.trim());
  const ms = match ? Number(match[1]) * DURATION_MS[match[2]] : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms < 1000) {
    throw new ConfigError(
      `${name} must be a duration of at least 1s (seconds, or 90s, 30m, 4h, 5d), got ${JSON.stringify(raw)}`,
    );
  }
  return ms;
}

function readSmarthost(s: SettingsReader): SmarthostConfig | undefined {
  const raw = s.optional('POSTERN_SMARTHOST');
  const user = s.optional('POSTERN_SMARTHOST_USER');
  const password = s.optional('POSTERN_SMARTHOST_PASSWORD');
  const tls = s.oneOf('POSTERN_SMARTHOST_TLS', ['starttls', 'implicit', 'none'] as const, 'starttls');
  if (raw === undefined) return undefined;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(raw.trim());
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port < 1 || port > 65535) {
    throw new ConfigError(`POSTERN_SMARTHOST must be host:port, got ${JSON.stringify(raw)}`);
  }
  if (!!user !== !!password) {
    throw new ConfigError('POSTERN_SMARTHOST_USER and POSTERN_SMARTHOST_PASSWORD must be set together');
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port, user, password, tls };
}

/** The queue section. The transport defaults to ses (AWS); the emulator sets outbox unless a smarthost is given. */
export function readOutbound(s: SettingsReader): OutboundConfig {
  const schedule = s.optional('POSTERN_RETRY_SCHEDULE');
  const smarthost = readSmarthost(s);
  const transport = s.oneOf('POSTERN_OUTBOUND_TRANSPORT', TRANSPORT_NAMES, smarthost ? 'smarthost' : 'ses');
  if (transport === 'smarthost' && !smarthost) {
    throw new ConfigError('POSTERN_SMARTHOST=host:port is needed with POSTERN_OUTBOUND_TRANSPORT=smarthost');
  }
  return {
    retrySchedule:
      schedule === undefined ? DEFAULT_RETRY_SCHEDULE : parseRetrySchedule('POSTERN_RETRY_SCHEDULE', schedule),
    queueLifetimeMs: readDuration(s, 'POSTERN_QUEUE_LIFETIME', 5 * 86_400_000),
    delayWarningMs: readDuration(s, 'POSTERN_DELAY_WARNING', 4 * 3_600_000),
    transport,
    smarthost: transport === 'smarthost' ? smarthost : undefined,
    pollMs: s.int('POSTERN_QUEUE_POLL_MS', 5000, 100),
    concurrency: s.int('POSTERN_QUEUE_CONCURRENCY', 8, 1, 256),
    hostname: s.string('POSTERN_HOSTNAME', 'localhost'),
    dataDir: s.optional('POSTERN_DATA_DIR'),
    sesConfigurationSet: s.optional('POSTERN_SES_CONFIGURATION_SET'),
  };
}

/** The outbound section alone, strictly: for the deliver Lambda. */
export function loadOutboundConfig(env: Env): OutboundConfig {
  return readOutbound(new SettingsReader(env));
}

/** Endpoints and physical names of the AWS services (also what the Lambdas and the admin CLI need). */
export function readAwsConfig(s: SettingsReader, env: Env): AwsConfig {
  return {
    endpoints: {
      s3: env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined,
      dynamodb: env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined,
      region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
      ses: env.AWS_ENDPOINT_URL_SESV2 || undefined,
    },
    names: namesFromSettings(s),
  };
}

export function readDkimConfig(s: SettingsReader, env: Env): DkimConfig {
  return {
    store: s.oneOf('POSTERN_DKIM_KEY_STORE', ['local', 'secrets-manager'] as const, 'secrets-manager'),
    secretPrefix: s.string('POSTERN_DKIM_SECRET_PREFIX', DKIM_SECRET_PREFIX),
    secretsEndpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
  };
}

function readForwarding(s: SettingsReader): ForwardingConfig {
  const srsSecret = s.optional('POSTERN_SRS_SECRET');
  if (srsSecret !== undefined && srsSecret.length < 16) {
    throw new ConfigError('POSTERN_SRS_SECRET must have at least 16 characters');
  }
  const previous = s.optional('POSTERN_SRS_PREVIOUS_SECRETS');
  const srsPreviousSecrets = previous ? previous.split(',').map((k) => k.trim()) : [];
  if (srsPreviousSecrets.some((k) => k.length < 16)) {
    throw new ConfigError('POSTERN_SRS_PREVIOUS_SECRETS must be comma-separated secrets of at least 16 characters');
  }
  return { srsSecret, srsPreviousSecrets, srsMaxAgeDays: s.int('POSTERN_SRS_MAX_AGE_DAYS', 21, 1, 1000) };
}

/** The DKIM key store's settings only: for the deliver function and the admin CLI. */
export function loadDkimConfig(env: Env): DkimConfig {
  return readDkimConfig(new SettingsReader(env), env);
}

/** The admin CLI's hosted zone for DKIM records (with --aws), and how Route 53 is reached. */
export interface DkimZoneConfig {
  /** POSTERN_HOSTED_ZONE_ID, the zone given to the stack as -c hostedZoneId; unset: records are printed only. */
  readonly hostedZoneId?: string;
  /** AWS_ENDPOINT_URL_ROUTE_53 or AWS_ENDPOINT_URL; unset is real AWS. */
  readonly endpoint?: string;
  readonly region?: string;
}

export function loadDkimZoneConfig(env: Env): DkimZoneConfig {
  return {
    hostedZoneId: new SettingsReader(env).optional('POSTERN_HOSTED_ZONE_ID'),
    endpoint: env.AWS_ENDPOINT_URL_ROUTE_53 || env.AWS_ENDPOINT_URL || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
  };
}

/** ACME directories by name (POSTERN_ACME_DIRECTORY takes one of these names or a URL). */
export const ACME_DIRECTORIES = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
} as const;

/** The certificate renewal function (functions/certrenew): what to renew, where, and through which CA. */
export interface CertRenewalConfig {
  readonly hostname: string;
  readonly hostedZoneId: string;
  readonly tlsSecretArn: string;
  readonly accountSecretArn: string;
  readonly directoryUrl: string;
  readonly email?: string;
  readonly renewBeforeDays: number;
  /** Secrets Manager endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL); unset is real AWS. */
  readonly secretsEndpoint?: string;
  readonly region?: string;
}

export function loadCertRenewalConfig(env: Env): CertRenewalConfig {
  const s = new SettingsReader(env);
  const required = (name: string) => {
    const value = s.optional(name);
    if (!value) throw new ConfigError(`${name} is not set`);
    return value;
  };
  const directory = s.string('POSTERN_ACME_DIRECTORY', 'production');
  const named = (ACME_DIRECTORIES as Record<string, string>)[directory];
  if (!named && !/^https:\/\//.test(directory)) {
    throw new ConfigError(`POSTERN_ACME_DIRECTORY must be production, staging or an https:// URL, got ${directory}`);
  }
  return {
    hostname: required('POSTERN_HOSTNAME'),
    hostedZoneId: required('POSTERN_HOSTED_ZONE_ID'),
    tlsSecretArn: required('POSTERN_TLS_SECRET_ARN'),
    accountSecretArn: required('POSTERN_ACME_ACCOUNT_SECRET_ARN'),
    directoryUrl: named ?? directory,
    email: s.optional('POSTERN_ACME_EMAIL'),
    renewBeforeDays: s.int('POSTERN_ACME_RENEW_BEFORE_DAYS', 30, 1),
    secretsEndpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER || env.AWS_ENDPOINT_URL || undefined,
    region: env.AWS_REGION || undefined,
  };
}

/** Storage endpoints and names only: for programs that need nothing else (Lambdas, admin CLI). */
export function loadAwsConfig(env: Env): AwsConfig {
  return readAwsConfig(new SettingsReader(env), env);
}

export function loadConfig(env: Env): Config {
  const s = new SettingsReader(env);
  const host = s.string('POSTERN_HOST', '127.0.0.1');
  const config: Config = {
    hostname: s.string('POSTERN_HOSTNAME', 'localhost'),
    ports: readPorts(s),
    allowPlaintextAuth: s.bool('POSTERN_ALLOW_PLAINTEXT_AUTH', false),
    net: readNet(s, host),
    smtp: readSmtp(s),
    submission: readSubmission(s),
    pop3: readPop3(s),
    imap: readImap(s),
    auth: readAuth(s),
    tls: readTls(s, env),
    invoker: readInvoker(s),
    aws: readAwsConfig(s, env),
    outbound: readOutbound(s),
    dkim: readDkimConfig(s, env),
    forwarding: readForwarding(s),
    notify: readNotify(s),
    drainMs: s.int('POSTERN_DRAIN_MS', 10_000),
    logLevel: s.oneOf('POSTERN_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    metricsFlushMs: s.int('POSTERN_METRICS_FLUSH_MS', 60_000),
  };
  const unknown = unknownSettings(env, s, OTHER_PROGRAMS_SETTINGS);
  if (unknown.length) throw new ConfigError(`unknown setting${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
  // Passwords in the clear are for a laptop only: anything reachable from another host must use TLS.
  if (config.allowPlaintextAuth && !isLoopbackHost(host)) {
    throw new ConfigError(
      `POSTERN_ALLOW_PLAINTEXT_AUTH is only allowed when POSTERN_HOST is a loopback address, not ${host}`,
    );
  }
  if (config.invoker.kind === 'lambda') {
    for (const [fn, name] of Object.entries(config.invoker.functionNames)) {
      if (!name)
        throw new ConfigError(`POSTERN_FN_${fn.toUpperCase()} is not set (needed with POSTERN_INVOKER=lambda)`);
    }
  }
  return config;
}
