import { Duration } from 'aws-cdk-lib';

/**
 * The gateway's public TCP ports. The NLB listener, the target group and the container all use the same number,
 * and the gateway learns it from `env` (see lib/gateway).
 */
export interface GatewayPort {
  /** Used in construct ids and output names. */
  readonly name: string;
  readonly port: number;
  /** Environment variable through which the gateway learns the port to listen on. */
  readonly env: string;
  /**
   * How long the NLB keeps an idle connection (NLB default is 350 s). IMAP IDLE clients re-issue IDLE at most
   * every 29 minutes (RFC 3501 autologout is at least 30 minutes), POP3 and SMTP allow 10 minutes of silence.
   */
  readonly idleTimeout: Duration;
}

const TEN_MINUTES_AND_SOME = Duration.seconds(660);
const IMAP_IDLE = Duration.seconds(1860);

export const GATEWAY_PORTS: readonly GatewayPort[] = [
  { name: 'Smtp', port: 25, env: 'POSTERN_SMTP_PORT', idleTimeout: TEN_MINUTES_AND_SOME },
  { name: 'Submissions', port: 465, env: 'POSTERN_SUBMISSIONS_PORT', idleTimeout: TEN_MINUTES_AND_SOME },
  { name: 'Submission', port: 587, env: 'POSTERN_SUBMISSION_PORT', idleTimeout: TEN_MINUTES_AND_SOME },
  { name: 'Pop3', port: 110, env: 'POSTERN_POP3_PORT', idleTimeout: TEN_MINUTES_AND_SOME },
  { name: 'Pop3s', port: 995, env: 'POSTERN_POP3S_PORT', idleTimeout: TEN_MINUTES_AND_SOME },
  { name: 'Imap', port: 143, env: 'POSTERN_IMAP_PORT', idleTimeout: IMAP_IDLE },
  { name: 'Imaps', port: 993, env: 'POSTERN_IMAPS_PORT', idleTimeout: IMAP_IDLE },
];
