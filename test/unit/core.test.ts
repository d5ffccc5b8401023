/** Pure core pieces: addresses, mailbox names, ids, the PROXY v2 parser, the local invoker. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPostmaster, normalizeDomain, parseAddress, withoutSubaddress } from '../../lib/core/address.ts';
import { InvalidInputError } from '../../lib/core/errors.ts';
import { monotonicUlid, ulid } from '../../lib/core/ids.ts';
import { normalizeMailboxName } from '../../lib/core/mailboxNames.ts';
import { buildProxyV2, ProxyHeaderError, parseProxyV2 } from '../../lib/net/proxyProtocol.ts';
import { LocalInvoker } from '../../lib/pipeline/invoker.ts';

describe('addresses', () => {
  test('normalises case and IDN domains', () => {
    assert.deepEqual(parseAddress('Alice.Smith@Example.COM'), {
      local: 'alice.smith',
      domain: 'example.com',
      address: 'alice.smith@example.com',
    });
    assert.equal(normalizeDomain('Bücher.Example'), 'xn--bcher-kva.example');
    assert.equal(withoutSubaddress('alice+news'), 'alice');
    assert.equal(withoutSubaddress('+alice'), '+alice');
  });

  test('refuses relay tricks and malformed addresses (RFC 5321 §4.1.2, §4.5.3.1)', () => {
    for (const bad of [
      'user@other.example@ours.example',
      '"user@other"@ours.example',
      '@route.example:user@ours.example',
      'user@ours.example.',
      'user',
      '@ours.example',
      'user@',
      'a b@ours.example',
      '.user@ours.example',
      'user.@ours.example',
      'us..er@ours.example',
      `${'a'.repeat(65)}@ours.example`,
      'user@[127.0.0.1]',
      'user@localhost',
    ]) {
      assert.throws(() => parseAddress(bad), InvalidInputError, bad);
    }
  });

  test('a quoted local part that needs no quotes is the unquoted address (RFC 5321 §4.1.2, RFC 5322 §3.4.1)', () => {
    for (const [quoted, plain] of [
      ['"u1"@Ours.Example', 'u1@ours.example'],
      ['"Alice.Smith"@ours.example', 'alice.smith@ours.example'],
      ['"bob+tag"@ours.example', 'bob+tag@ours.example'],
      ['"b\\ob"@ours.example', 'bob@ours.example'], // a quoted-pair of a plain character is that character
      ['"user%elsewhere.example"@ours.example', 'user%elsewhere.example@ours.example'], // still no routing meaning
    ]) {
      assert.deepEqual(parseAddress(quoted), parseAddress(plain), quoted);
    }
  });

  test('quoted local parts that really need their quotes are refused; none becomes a relay', () => {
    for (const bad of [
      '"a@b"@ours.example', // must never become a@b
      '"user@elsewhere.example"@ours.example',
      '"a b"@ours.example',
      '"a..b"@ours.example',
      '".a"@ours.example',
      '""@ours.example',
      '"a\\"b"@ours.example',
      '"a"b"@ours.example',
      '"a".b@ours.example',
      '"unterminated@ours.example',
      '"a\tb"@ours.example',
      `"${'a'.repeat(63)}"@ours.example`, // 65 octets with its quotes (RFC 5321 §4.5.3.1.1)
    ]) {
      assert.throws(() => parseAddress(bad), InvalidInputError, bad);
    }
  });

  test('postmaster is recognised in any case, with or without a +tag (RFC 5321 §4.5.1)', () => {
    for (const local of ['postmaster', 'PostMaster', 'postmaster+x']) assert.equal(isPostmaster(local), true, local);
    for (const local of ['postmasters', 'post.master', '+postmaster']) assert.equal(isPostmaster(local), false, local);
  });
});

test('mailbox names: INBOX is case-insensitive, hierarchy kept, bad names refused (RFC 3501 §5.1)', () => {
  assert.equal(normalizeMailboxName('inbox'), 'INBOX');
  assert.equal(normalizeMailboxName('Inbox/Sub'), 'INBOX/Sub');
  assert.equal(normalizeMailboxName('Work/2026'), 'Work/2026');
  // RFC 9051 §5.1: names in NFC; RFC 6855 §3: no C1 controls, LINE or PARAGRAPH SEPARATOR
  assert.equal(normalizeMailboxName('Cafe\u0301'), 'Caf\u00e9');
  for (const bad of ['', 'a//b', 'x\ty', '/lead', 'trail/', 'a\u0085b', 'a\u2028b', 'a\u2029b'])
    assert.throws(() => normalizeMailboxName(bad), InvalidInputError);
});

test('ulids sort by time and are unique', () => {
  let now = 1000;
  const next = monotonicUlid(() => now);
  const a = next();
  now = 2000;
  const b = next();
  assert.equal(a.length, 26);
  assert.ok(a < b);
  assert.equal(new Set(Array.from({ length: 1000 }, () => ulid())).size, 1000);
});

test('ulids made within one millisecond, or after the clock stepped back, keep their order', () => {
  let now = 5000;
  const next = monotonicUlid(() => now);
  const ids = Array.from({ length: 2000 }, (_, i) => {
    if (i === 1000) now = 4000; // the clock steps back: order still holds
    return next();
  });
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(
    ids.every((id) => id.slice(0, 10) === ids[0].slice(0, 10)),
    'time part stays at the latest time seen',
  );
});

describe('PROXY protocol v2', () => {
  const header = buildProxyV2({ address: '203.0.113.9', port: 41000 }, { address: '10.0.0.5', port: 25 });

  test('parses an IPv4 header byte by byte, asking for more until complete', () => {
    for (let i = 1; i < header.length; i++) assert.equal(parseProxyV2(header.subarray(0, i)), undefined, `at ${i}`);
    const parsed = parseProxyV2(Buffer.concat([header, Buffer.from('EHLO x\r\n')]))!;
    assert.equal(parsed.length, header.length);
    assert.deepEqual(parsed.info, {
      command: 'proxy',
      sourceAddress: '203.0.113.9',
      destinationAddress: '10.0.0.5',
      sourcePort: 41000,
      destinationPort: 25,
    });
  });

  test('LOCAL (health check) and IPv6', () => {
    const local = Buffer.from(header);
    local[12] = 0x20;
    assert.equal(parseProxyV2(local)?.info.command, 'local');
    const v6 = Buffer.concat([header.subarray(0, 12), Buffer.from([0x21, 0x21, 0, 36]), Buffer.alloc(36)]);
    v6[16 + 15] = 1;
    v6[16 + 32] = 0x01;
    assert.equal(parseProxyV2(v6)?.info.sourceAddress, '::1');
  });

  test('anything else is refused: plain SMTP, v1 text, bad version, oversized block', () => {
    assert.throws(() => parseProxyV2(Buffer.from('EHLO client\r\n')), ProxyHeaderError);
    assert.throws(() => parseProxyV2(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n')), ProxyHeaderError);
    const badVersion = Buffer.from(header);
    badVersion[12] = 0x31;
    assert.throws(() => parseProxyV2(badVersion), ProxyHeaderError);
    const huge = Buffer.from(header);
    huge.writeUInt16BE(5000, 14);
    assert.throws(() => parseProxyV2(huge), ProxyHeaderError);
  });
});

test('LocalInvoker round-trips events through JSON like a real invocation', async () => {
  const seen: unknown[] = [];
  const echo = async (event: unknown) => {
    seen.push(event);
    return { at: new Date(0), missing: undefined };
  };
  const invoker = new LocalInvoker({ route: echo, filter: echo, store: echo, deliver: echo });
  const result = await invoker.invoke('route', { buf: Buffer.from('hi'), when: new Date(0), gone: undefined });
  assert.deepEqual(seen[0], { buf: { type: 'Buffer', data: [104, 105] }, when: '1970-01-01T00:00:00.000Z' });
  assert.deepEqual(result, { at: '1970-01-01T00:00:00.000Z' });
});
