/**
 * A minimal authoritative DNS responder on 127.0.0.1 (UDP, node:dgram) for the ACME test: it answers TXT
 * queries from its own records and everything else with an empty NOERROR, which is all Pebble's DNS-01
 * validation asks. `challengeWriter` is the local DnsChallengeWriter (lib/certs/ports.ts) over it.
 */
import { createSocket } from 'node:dgram';
import type { DnsChallengeWriter } from '../../lib/certs/ports.ts';

export interface DnsStub {
  /** host:port, for Pebble's -dnsserver. */
  readonly address: string;
  /** Lower-case name without the trailing dot, to TXT values. */
  readonly txt: Map<string, string[]>;
  /** Every question asked: name and type number. */
  readonly queries: { readonly name: string; readonly type: number }[];
  readonly challengeWriter: DnsChallengeWriter;
  stop(): Promise<void>;
}

const TXT = 16;

export async function startDnsStub(): Promise<DnsStub> {
  const txt = new Map<string, string[]>();
  const queries: DnsStub['queries'] = [];
  const socket = createSocket('udp4');
  socket.on('message', (msg, peer) => {
    const question = parseQuestion(msg);
    if (!question) return;
    queries.push({ name: question.name, type: question.type });
    const values = question.type === TXT ? (txt.get(question.name) ?? []) : [];
    socket.send(answer(msg, question.end, values), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  const key = (name: string) => name.toLowerCase().replace(/\.$/, '');
  return {
    address: `127.0.0.1:${port}`,
    txt,
    queries,
    challengeWriter: {
      set: async (name, value) => void txt.set(key(name), [...(txt.get(key(name)) ?? []), value]),
      remove: async (name, value) => {
        const left = (txt.get(key(name)) ?? []).filter((v) => v !== value);
        if (left.length) txt.set(key(name), left);
        else txt.delete(key(name));
      },
    },
    stop: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}

/** The one question of a query (RFC 1035 §4.1.2): its name, type, and where it ends. */
function parseQuestion(msg: Buffer): { name: string; type: number; end: number } | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < msg.length && msg[at] !== 0) {
    const len = msg[at];
    if (len > 63) return undefined; // no compression in a question
    labels.push(msg.subarray(at + 1, at + 1 + len).toString('latin1'));
    at += 1 + len;
  }
  if (at + 5 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(at + 1), end: at + 5 };
}

/** A response with the question echoed and one TXT record per value (name by pointer to the question). */
function answer(query: Buffer, questionEnd: number, values: readonly string[]): Buffer {
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  // QR, AA, and the query's RD; RCODE 0
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(values.length, 6);
  const records = values.map((value) => {
    const text = Buffer.from(value, 'latin1');
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(TXT, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(0, 6);
    rr.writeUInt16BE(text.length + 1, 10);
    return Buffer.concat([rr, Buffer.from([text.length]), text]);
  });
  return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
}
