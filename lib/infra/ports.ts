import { Duration } from 'aws-cdk-lib';
import { type ListenerName, PORT_ENV } from '../core/config.ts';

/**
 * The gateway's TCP ports. Clients reach the NLB on the standard `listenerPort`; the NLB forwards to the task
 * on `containerPort`, an unprivileged port, so the container runs as a non-root user (binding below 1024 needs
 * root). The container ports are the emulator's defaults, and the gateway learns them from `env`.
 */
export interface GatewayPort {
  /** Used in construct ids and output names. */
  readonly name: string;
  readonly listener: ListenerName;
  /** The public port on the NLB (what MX, submission, POP3 and IMAP clients connect to). */
  readonly listenerPort: number;
  /** The port the container listens on: the target group's port, >= 1024. */
  readonly containerPort: number;
  /** Environment variable through which the gateway learns `containerPort` (lib/core/config.ts). */
  readonly env: string;
  /**
   * How long the NLB keeps an idle connection (NLB default is 350 s). IMAP IDLE clients re-issue IDLE at most
   * every 29 minutes (RFC 3501 autologout is at least 30 minutes), POP3 and SMTP allow 10 minutes of silence.
   */
  readonly idleTimeout: Duration;
}

const TEN_MINUTES_AND_SOME = Duration.seconds(660);
const IMAP_IDLE = Duration.seconds(1860);

function port(
  name: string,
  listener: ListenerName,
  listenerPort: number,
  containerPort: number,
  idleTimeout: Duration,
): GatewayPort {
  return { name, listener, listenerPort, containerPort, env: PORT_ENV[listener], idleTimeout };
}

export const GATEWAY_PORTS: readonly GatewayPort[] = [
  port('Smtp', 'smtp', 25, 2525, TEN_MINUTES_AND_SOME),
  port('Submissions', 'submissions', 465, 2465, TEN_MINUTES_AND_SOME),
  port('Submission', 'submission', 587, 2587, TEN_MINUTES_AND_SOME),
  port('Pop3', 'pop3', 110, 2110, TEN_MINUTES_AND_SOME),
  port('Pop3s', 'pop3s', 995, 2995, TEN_MINUTES_AND_SOME),
  port('Imap', 'imap', 143, 2143, IMAP_IDLE),
  port('Imaps', 'imaps', 993, 2993, IMAP_IDLE),
];
