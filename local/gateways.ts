/**
 * The emulator's gateway processes: one by default, `POSTERN_GATEWAYS=N` for several on one store, as several
 * Fargate tasks behind the NLB. The first listens on the configured ports, the others on free ports; each is
 * supervised on its own (restarted when it dies). What each listens on is read from its `ready` log line.
 */
import type { ChildProcess } from 'node:child_process';
import { EPHEMERAL_PORTS_ENV, type ListenerName } from '../lib/core/config.ts';
import { type GatewaySupervisor, superviseGateway } from './gatewaySupervisor.ts';

export interface GatewayState {
  readonly pid: number;
  readonly ports: Readonly<Record<ListenerName, number>>;
}

export interface Gateways {
  /** The gateways that said ready, in order (gateway 1 first). */
  readonly ready: readonly (GatewayState | undefined)[];
  stop(graceMs: number): Promise<void>;
}

export interface GatewaysOptions {
  readonly count: number;
  readonly env: NodeJS.ProcessEnv;
  readonly spawn: (env: NodeJS.ProcessEnv) => ChildProcess;
  /** Each gateway log line. */
  readonly onLine: (line: string) => void;
  /** After a gateway (re)started and said ready: the list as it is now. */
  readonly onReady: (gateways: readonly (GatewayState | undefined)[]) => void;
  readonly say: (line: string) => void;
  readonly onGiveUp: () => void;
}

/** How many gateways POSTERN_GATEWAYS asks for (1 to 8). */
export function gatewayCount(env: NodeJS.ProcessEnv): number {
  const raw = env.POSTERN_GATEWAYS?.trim() || '1';
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= 1 && n <= 8))
    throw new Error(`POSTERN_GATEWAYS must be a whole number from 1 to 8, got ${JSON.stringify(raw)}`);
  return n;
}

/** Several gateways need the cross-task notifier: each runs the store step for its own sessions only. */
export function crossTaskEnv(count: number): NodeJS.ProcessEnv {
  if (count === 1) return {};
  return { POSTERN_NOTIFY: 'cross-task', POSTERN_NOTIFY_HOST: '127.0.0.1', POSTERN_NOTIFY_PORT: '0' };
}

export function startGateways(opts: GatewaysOptions): Gateways {
  const ready: (GatewayState | undefined)[] = Array.from({ length: opts.count }, () => undefined);
  const supervisors: GatewaySupervisor[] = [];
  for (let i = 0; i < opts.count; i++) {
    const env = { ...opts.env, ...(i > 0 ? EPHEMERAL_PORTS_ENV : {}), ...crossTaskEnv(opts.count) };
    let child: ChildProcess | undefined;
    const supervisor = superviseGateway({
      start: () => {
        ready[i] = undefined;
        child = opts.spawn(env);
        return child;
      },
      onLine: (line) => {
        const ports = readyPorts(line);
        if (ports && child?.pid) {
          ready[i] = { pid: child.pid, ports };
          opts.onReady(ready);
        }
        opts.onLine(line);
      },
      say: (line) => opts.say(opts.count > 1 ? line.replace('the gateway', `gateway ${i + 1}`) : line),
      onGiveUp: opts.onGiveUp,
    });
    supervisors.push(supervisor);
  }
  return {
    ready,
    stop: async (graceMs) => {
      await Promise.all(supervisors.map((s) => s.stop(graceMs)));
    },
  };
}

/** The listener ports of a gateway's `ready` line (lib/gateway/main.ts), or undefined for any other line. */
function readyPorts(line: string): Record<ListenerName, number> | undefined {
  if (!line.includes('"msg":"ready"')) return undefined;
  try {
    const parsed = JSON.parse(line) as { msg?: string; ports?: Record<ListenerName, number> };
    return parsed.msg === 'ready' ? parsed.ports : undefined;
  } catch {
    return undefined;
  }
}
