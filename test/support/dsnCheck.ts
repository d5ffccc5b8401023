/**
 * Independent readers of our DSNs: Python's `email` package (Debian's /usr/bin/python3) and mailparser.
 * Python's parser splits message/delivery-status into its field blocks (RFC 3464 §2.1), so its view of the
 * fields is not ours. And a SystemMailSender that keeps what it is given, one message per idempotency key.
 */
import { spawnSync } from 'node:child_process';
import { simpleParser } from 'mailparser';
import type { SystemMailSender } from '../../lib/core/outbound.ts';

export interface PythonView {
  readonly headers: Record<string, string>;
  readonly reportType: string | null;
  readonly parts: string[];
  /** Blocks of the message/delivery-status part: the per-message fields first, then one per recipient. */
  readonly status: Record<string, string>[];
  readonly human: string;
  /** The returned part, decoded: text/rfc822-headers text, or the message/rfc822 message as bytes (latin1). */
  readonly returned: string | null;
  readonly returnedSubject: string | null;
  readonly defects: string[];
}

const SCRIPT = `
import sys, json, email, email.policy
data = sys.stdin.buffer.read()
m = email.message_from_bytes(data)
# The top header fields read with the modern policy, which decodes raw UTF-8 (RFC 6532) as such.
top = email.message_from_bytes(data, policy=email.policy.default)
out = {'headers': {k: str(v) for k, v in top.items()}, 'reportType': m.get_param('report-type'),
       'parts': [], 'status': [], 'human': '', 'returned': None, 'returnedSubject': None,
       'defects': [type(d).__name__ for p in m.walk() for d in p.defects]}
for p in m.get_payload():
    t = p.get_content_type()
    out['parts'].append(t)
    if t == 'message/delivery-status':
        out['status'] = [{k: ' '.join(str(v).split()) for k, v in b.items()} for b in p.get_payload()]
    elif t == 'text/plain':
        out['human'] = p.get_payload(decode=True).decode('utf-8')
    elif t == 'text/rfc822-headers':
        out['returned'] = p.get_payload(decode=True).decode('utf-8')
    elif t == 'message/rfc822':
        inner = p.get_payload()[0]
        out['returned'] = inner.as_bytes().decode('latin1')
        out['returnedSubject'] = inner['Subject']
print(json.dumps(out))
`;

export function parseWithPython(dsn: Buffer): PythonView {
  const run = spawnSync('/usr/bin/python3', ['-c', SCRIPT], { input: dsn, maxBuffer: 16 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr.toString()}`);
  return JSON.parse(run.stdout.toString()) as PythonView;
}

export async function parseWithMailparser(dsn: Buffer) {
  return simpleParser(dsn);
}

/** A SystemMailSender that keeps one message per idempotency key, as the queue-backed one does. */
export function recordingSender(): SystemMailSender & {
  sent: Map<string, { recipient: string; text: Buffer }>;
  calls: number;
} {
  const sent = new Map<string, { recipient: string; text: Buffer }>();
  const sender = {
    sent,
    calls: 0,
    async send(m: { recipient: string; text: Buffer; idempotencyKey: string }) {
      sender.calls++;
      if (!sent.has(m.idempotencyKey)) sent.set(m.idempotencyKey, { recipient: m.recipient, text: m.text });
    },
  };
  return sender;
}
