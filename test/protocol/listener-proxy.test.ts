/**
 * The shared accept path behind the NLB: PROXY protocol v2 in front of plain and implicit-TLS connections,
 * the per-IP limit counted on the proxied (real) client address, IPv6 client addresses in their RFC 5952 form,
 * and PROXY headers refused where not configured.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { createLogger } from '../../lib/core/log.ts';
import { buildProxyV2 } from '../../lib/net/proxyProtocol.ts';
import { startTestGateway } from '../support/gateway.ts';

function firstLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      const i = buf.indexOf('\r\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(buf));
  });
}

const header = (address: string) => buildProxyV2({ address, port: 50000 }, { address: '10.0.0.1', port: 110 });

test('behind the balancer: PROXY v2 then plain POP3, and PROXY v2 then TLS in the same packet (995)', async (t) => {
  const tg = await startTestGateway({ env: { POSTERN_PROXY_PROTOCOL: '1' } });
  t.after(() => tg.close());
  const plain = connect(tg.port('pop3'), '127.0.0.1');
  plain.write(header('198.51.100.7'));
  assert.match(await firstLine(plain), /^\+OK/);
  plain.destroy();

  // The ClientHello follows the header without waiting: both arrive before the gateway reads either.
  const raw = connect(tg.port('pop3s'), '127.0.0.1');
  await new Promise((r) => raw.once('connect', r));
  raw.cork();
  raw.write(header('198.51.100.8'));
  const secure = tlsConnect({ socket: raw, rejectUnauthorized: false });
  process.nextTick(() => raw.uncork());
  assert.match(await firstLine(secure as unknown as Socket), /^\+OK/);
  secure.destroy();

  // Without a header the connection is dropped before any greeting.
  const bare = connect(tg.port('pop3'), '127.0.0.1');
  bare.write('USER x\r\n');
  assert.equal(await firstLine(bare), '');
});

test('the per-IP limit counts the real client address from the PROXY header', async (t) => {
  const tg = await startTestGateway({ env: { POSTERN_PROXY_PROTOCOL: '1', POSTERN_MAX_CONNECTIONS_PER_IP: '2' } });
  t.after(() => tg.close());
  const open: Socket[] = [];
  const greet = async (address: string) => {
    const s = connect(tg.port('pop3'), '127.0.0.1');
    open.push(s);
    s.write(header(address));
    return firstLine(s);
  };
  assert.match(await greet('203.0.113.1'), /^\+OK/);
  assert.match(await greet('203.0.113.1'), /^\+OK/);
  assert.match(await greet('203.0.113.1'), /^-ERR \[SYS\/TEMP\]/);
  assert.match(await greet('203.0.113.2'), /^\+OK/, 'another client is not affected');
  for (const s of open) s.destroy();
});

test('PROXY v2 over IPv6: the client address in RFC 5952 form (§4), an IPv4-mapped one as IPv4 (§5)', async (t) => {
  const lines: { msg: string; remote?: string }[] = [];
  const log = createLogger({ level: 'info', sink: (line) => lines.push(JSON.parse(line)) });
  const tg = await startTestGateway({ env: { POSTERN_PROXY_PROTOCOL: '1' }, log });
  t.after(() => tg.close());
  const dest = { address: '2001:db8::25', port: 110 };
  for (const address of ['1:0:0:2:0:0:0:3', '0:0:0:0:0:ffff:c000:201']) {
    const s = connect(tg.port('pop3'), '127.0.0.1');
    s.write(buildProxyV2({ address, port: 50000 }, dest));
    assert.match(await firstLine(s), /^\+OK/);
    s.destroy();
  }
  const remotes = lines.filter((l) => l.msg === 'pop3 connected').map((l) => l.remote);
  assert.deepEqual(remotes, ['1:0:0:2::3', '192.0.2.1']);
});

test('without PROXY configured, a connection that starts with a PROXY header is refused (POP3 and IMAP)', async (t) => {
  const tg = await startTestGateway();
  t.after(() => tg.close());
  for (const [name, refusal] of [
    ['pop3', /^-ERR PROXY/],
    ['imap', /BYE PROXY/],
  ] as const) {
    const s = connect(tg.port(name), '127.0.0.1');
    const lines: string[] = [];
    s.on('data', (d) => lines.push(...d.toString('latin1').split('\r\n').filter(Boolean)));
    s.write(header('192.0.2.1'));
    await new Promise((r) => s.once('close', r));
    assert.ok(
      lines.some((l) => refusal.test(l)),
      `${name}: ${JSON.stringify(lines)}`,
    );
  }
});
