/**
 * Nothing of the emulator may be reachable from another host: DynamoDB Local's API takes unsigned requests,
 * so a listener on every interface hands the password hashes to the network. The check reads the kernel's
 * socket table (/proc/net/tcp, /proc/net/tcp6) instead of connecting to a non-loopback address, which this
 * workplace forbids; and the on-disk tables must be readable by their owner only.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JavaMissingError, startDynamoDbLocal } from '../../local/dynamodb.ts';

const LOOPBACK = new Set(['127.0.0.1', '::ffff:127.0.0.1']);
const noProcNet = !existsSync('/proc/net/tcp') && 'needs Linux /proc/net/tcp';

// Under umask 022 a file the code leaves to the umask is 0644: the mode checks below then catch it.
process.umask(0o022);

const scratch = mkdtempSync(join(tmpdir(), 'postern-exposure-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** An address from /proc/net/tcp{,6}: hex, each 32-bit word in host (little-endian) byte order. */
function decodeProcAddress(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((w) => Buffer.from(w, 'hex').reverse());
  const bytes = Buffer.concat(words);
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes.readUInt16BE(10) === 0xffff) {
    return `::ffff:${[...bytes.subarray(12)].join('.')}`;
  }
  return (bytes.toString('hex').match(/.{4}/g) ?? []).map((g) => g.replace(/^0{1,3}/, '')).join(':');
}

/** Local addresses of the sockets in state LISTEN (0A) on `port`, IPv4 and IPv6. */
function listeningAddresses(port: number): string[] {
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || !local) continue;
      const [addressHex, portHex] = local.split(':');
      if (Number.parseInt(portHex, 16) === port) addresses.push(decodeProcAddress(addressHex));
    }
  }
  return addresses;
}

function assertLoopbackOnly(port: number): void {
  const addresses = listeningAddresses(port);
  assert.ok(addresses.length > 0, `a LISTEN socket on port ${port}`);
  for (const address of addresses) {
    assert.ok(LOOPBACK.has(address), `port ${port} listens on ${address}, not on 127.0.0.1 only`);
  }
}

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('DynamoDB Local is reachable from this host only', () => {
  it('the /proc/net address decoder reads IPv4, IPv4-mapped and wildcard addresses', () => {
    assert.equal(decodeProcAddress('0100007F'), '127.0.0.1');
    assert.equal(decodeProcAddress('00000000'), '0.0.0.0');
    assert.equal(decodeProcAddress('0000000000000000FFFF00000100007F'), '::ffff:127.0.0.1');
    assert.equal(decodeProcAddress('00000000000000000000000000000000'), '0:0:0:0:0:0:0:0');
  });

  it('in memory (as the test runner starts it): its only LISTEN socket is on 127.0.0.1', {
    skip: noProcNet,
  }, async () => {
    const dynamo = await startDynamoDbLocal();
    try {
      assertLoopbackOnly(dynamo.port);
    } finally {
      await dynamo.stop();
    }
  });

  it('on disk (as npm start runs it): loopback only, and its directory and sqlite file are private', async (t) => {
    const dataDir = join(scratch, 'dynamodb');
    // A directory and file left by an older version, readable by everyone: repaired at start.
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'left-over.db'), '', { mode: 0o644 });
    const dynamo = await startDynamoDbLocal({ dataDir });
    try {
      if (noProcNet) t.diagnostic(noProcNet);
      else assertLoopbackOnly(dynamo.port);
      assert.equal(modeOf(dataDir).toString(8), '700');
      assert.equal(modeOf(join(dataDir, 'left-over.db')).toString(8), '600');
      // DynamoDB Local makes its sqlite file on the first write, after start.
      const db = new DynamoDBClient({
        endpoint: dynamo.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      await db.send(
        new CreateTableCommand({
          TableName: 'exposure',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      db.destroy();
      assert.equal(modeOf(join(dataDir, 'shared-local-instance.db')).toString(8), '600');
    } finally {
      await dynamo.stop();
    }
  });

  it('a java without the jdk.compiler module gets a JavaMissingError, not a start on every interface', async () => {
    // A stand-in java: a Java 17 banner, and the error a runtime without jdk.compiler gives for `-m`.
    const javaHome = join(scratch, 'jre-without-compiler');
    mkdirSync(join(javaHome, 'bin'), { recursive: true });
    writeFileSync(
      join(javaHome, 'bin', 'java'),
      [
        '#!/bin/sh',
        'if [ "$1" = -version ]; then echo \'openjdk version "17.0.99" (stand-in without jdk.compiler)\' >&2; exit 0; fi',
        'if [ "$1" = -m ]; then echo "java.lang.module.FindException: Module jdk.compiler not found" >&2; exit 1; fi',
        'echo "stand-in java: not expected to start anything" >&2; exit 2',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const saved = process.env.JAVA_HOME;
    process.env.JAVA_HOME = javaHome;
    try {
      await assert.rejects(startDynamoDbLocal(), (err: Error) => {
        assert.ok(err instanceof JavaMissingError, `${err.name}: ${err.message}`);
        assert.match(err.message, /jdk\.compiler/);
        return true;
      });
    } finally {
      if (saved === undefined) delete process.env.JAVA_HOME;
      else process.env.JAVA_HOME = saved;
    }
  });
});
