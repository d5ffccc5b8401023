/**
 * Gateway configuration from the environment: the same variables locally (emulator defaults) and in AWS
 * (set by the CDK stack). Every setting is documented in the README.
 */
export interface ListenerPorts {
  readonly smtp: number;
  readonly submission: number;
  readonly submissions: number;
  readonly pop3: number;
  readonly pop3s: number;
  readonly imap: number;
  readonly imaps: number;
}

/** The environment variable of each listener's port. */
export const PORT_ENV: Readonly<Record<keyof ListenerPorts, string>> = {
  smtp: 'POSTERN_SMTP_PORT',
  submission: 'POSTERN_SUBMISSION_PORT',
  submissions: 'POSTERN_SUBMISSIONS_PORT',
  pop3: 'POSTERN_POP3_PORT',
  pop3s: 'POSTERN_POP3S_PORT',
  imap: 'POSTERN_IMAP_PORT',
  imaps: 'POSTERN_IMAPS_PORT',
};

/** Every listener on a port the kernel picks (tests and benchmarks; Listener.port tells which). */
export const EPHEMERAL_PORTS_ENV: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(PORT_ENV).map((name) => [name, '0']),
);

export interface GatewayConfig {
  /** Name in greetings and Received headers. */
  readonly hostname: string;
  /** Address the listeners bind to. */
  readonly host: string;
  readonly ports: ListenerPorts;
  /** Whether passwords may be sent before TLS (the emulator allows it; AWS does not). */
  readonly allowPlaintextAuth: boolean;
  /** Whether listeners expect a PROXY protocol v2 header first (behind the NLB). */
  readonly proxyProtocol: boolean;
  /** Largest message accepted, in bytes (SMTP SIZE). */
  readonly maxMessageSize: number;
  /** Most recipients per SMTP transaction. */
  readonly maxRecipients: number;
  /** Most simultaneous connections from one client IP, per protocol listener. */
  readonly maxConnectionsPerIp: number;
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
}

/** A whole-number setting from the environment; unset or empty gives the fallback, anything else not >= min throws. */
export function envInt(
  env: NodeJS.ProcessEnv | Record<string, string | undefined>,
  name: string,
  fallback: number,
  min = 0,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be a whole number >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

const int = (env: NodeJS.ProcessEnv, name: string, fallback: number) => envInt(env, name, fallback);

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return ['1', 'true', 'yes', 'on'].includes(raw.toLowerCase());
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return {
    hostname: env.POSTERN_HOSTNAME || 'localhost',
    host: env.POSTERN_HOST || '127.0.0.1',
    ports: {
      smtp: int(env, PORT_ENV.smtp, 2525),
      submission: int(env, PORT_ENV.submission, 2587),
      submissions: int(env, PORT_ENV.submissions, 2465),
      pop3: int(env, PORT_ENV.pop3, 2110),
      pop3s: int(env, PORT_ENV.pop3s, 2995),
      imap: int(env, PORT_ENV.imap, 2143),
      imaps: int(env, PORT_ENV.imaps, 2993),
    },
    allowPlaintextAuth: bool(env, 'POSTERN_ALLOW_PLAINTEXT_AUTH', false),
    proxyProtocol: bool(env, 'POSTERN_PROXY_PROTOCOL', false),
    maxMessageSize: int(env, 'POSTERN_MAX_MESSAGE_SIZE', 40 * 1024 * 1024),
    maxRecipients: int(env, 'POSTERN_MAX_RECIPIENTS', 100),
    maxConnectionsPerIp: int(env, 'POSTERN_MAX_CONNECTIONS_PER_IP', 20),
    tlsCertFile: env.POSTERN_TLS_CERT_FILE || undefined,
    tlsKeyFile: env.POSTERN_TLS_KEY_FILE || undefined,
  };
}
