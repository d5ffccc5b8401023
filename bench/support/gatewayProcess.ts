/**
 * A gateway in a process of its own, on existing storage: the POP3 benchmark runs it so the gateway's memory
 * can be measured apart from the load generator and the storage emulators, and the POP3 tests run (and
 * SIGKILL) it to show what happens when a gateway task dies. Only the POP3 listeners are of interest; the
 * mail-logic functions are not reachable from it (a stub invoker).
 *
 * Input: POSTERN_GATEWAY_PROCESS = JSON {endpoints, names, tls, env}; `env` holds POSTERN_* settings for
 * loadConfig. Every listener binds an ephemeral port. Output: one JSON line on stdout,
 * {"pid": n, "ports": {"pop3": n, ...}}. SIGTERM closes it.
 */
import { createAuthenticator } from '../../lib/auth/authenticator.ts';
import type { AwsEndpoints } from '../../lib/core/config.ts';
import { createLogger, silentLogger } from '../../lib/core/log.ts';
import type { Invoker } from '../../lib/core/ports.ts';
import type { StorageNames } from '../../lib/core/schema.ts';
import { startGateway } from '../../lib/gateway/gateway.ts';
import type { TlsMaterial } from '../../lib/net/types.ts';
import { createAwsStorage } from '../../lib/storage/aws/storage.ts';
import { testConfig } from '../../test/support/config.ts';

export interface GatewayProcessInput {
  readonly endpoints: AwsEndpoints;
  readonly names: StorageNames;
  readonly tls: TlsMaterial;
  readonly env?: Record<string, string>;
}

const input = JSON.parse(process.env.POSTERN_GATEWAY_PROCESS ?? 'null') as GatewayProcessInput | null;
if (!input) throw new Error('POSTERN_GATEWAY_PROCESS is not set');

const storage = createAwsStorage({ endpoints: input.endpoints, names: input.names });
const config = testConfig(input.env);
const invoker: Invoker = {
  invoke: () => Promise.reject(new Error('no mail-logic functions in this gateway process')),
};
const log = process.env.POSTERN_GATEWAY_PROCESS_LOG
  ? createLogger({ sink: (l) => process.stderr.write(`${l}\n`) })
  : silentLogger;
const authenticator = createAuthenticator(storage.directory, config.auth);
const gateway = await startGateway({ config, storage, invoker, authenticator, tls: input.tls, log });
process.stdout.write(
  `${JSON.stringify({ pid: process.pid, ports: Object.fromEntries(gateway.listeners.map((l) => [l.name, l.port])) })}\n`,
);

// POSTERN_GATEWAY_PROCESS_MEMLOG=ms: process.memoryUsage() on stderr at that interval (diagnostics).
const memlog = Number(process.env.POSTERN_GATEWAY_PROCESS_MEMLOG ?? 0);
if (memlog > 0) {
  const mib = (b: number) => Math.round(b / 1048576);
  setInterval(() => {
    const m = process.memoryUsage();
    process.stderr.write(
      `memory rss=${mib(m.rss)} heapTotal=${mib(m.heapTotal)} heapUsed=${mib(m.heapUsed)} external=${mib(m.external)} arrayBuffers=${mib(m.arrayBuffers)} MiB\n`,
    );
  }, memlog).unref();
}

process.once('SIGTERM', () => {
  void gateway.close(1000).then(() => {
    storage.close();
    process.exit(0);
  });
});
