/**
 * Pebble (Debian package `pebble`, Let's Encrypt's ACME test server) in a temp directory: its own HTTPS
 * certificate, the ACME and management listeners on free loopback ports, DNS-01 lookups sent to `dnsServer`
 * (test/support/dnsStub.ts). Undefined when the binary is not installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export const PEBBLE = '/usr/bin/pebble';

export interface Pebble {
  readonly directoryUrl: string;
  /** Trusts Pebble's HTTPS listeners (its ACME API and management endpoint). */
  readonly httpsAgent: Agent;
  /** The root the issued certificates chain to (from the management endpoint). */
  root(): Promise<string>;
  stop(): void;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startPebble(dnsServer: string): Promise<Pebble | undefined> {
  if (!existsSync(PEBBLE)) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'postern-pebble-'));
  const tls = await selfsigned.generate([{ name: 'commonName', value: 'pebble.test' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  writeFileSync(join(dir, 'cert.pem'), tls.cert);
  writeFileSync(join(dir, 'key.pem'), tls.private, { mode: 0o600 });
  const [acmePort, managementPort] = [await freePort(), await freePort()];
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: join(dir, 'cert.pem'),
      privateKey: join(dir, 'key.pem'),
      // HTTP-01 and TLS-ALPN-01 are not used; ports nobody listens on
      httpPort: await freePort(),
      tlsPort: await freePort(),
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  };
  writeFileSync(join(dir, 'pebble-config.json'), JSON.stringify(config));
  const child: ChildProcess = spawn(PEBBLE, ['-config', join(dir, 'pebble-config.json'), '-dnsserver', dnsServer], {
    cwd: dir,
    // no random nonce rejections or validation sleeps; every order validated afresh (no authorization reuse)
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('ACME directory available')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`pebble exited (${code}): ${output}`)));
  });
  const httpsAgent = new Agent({ ca: tls.cert });
  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    httpsAgent,
    root: async () => {
      const res = await fetchVia(httpsAgent, `https://127.0.0.1:${managementPort}/roots/0`);
      return res;
    },
    stop: () => {
      child.kill();
      httpsAgent.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** GET over node:https with the agent (fetch has no per-request CA). */
async function fetchVia(agent: Agent, url: string): Promise<string> {
  const { get } = await import('node:https');
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
    }).once('error', reject);
  });
}
