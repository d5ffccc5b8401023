/**
 * The submission benchmark's load: `clients` nodemailer transports (pooled, one connection each, kept open),
 * each sending one message after another for `seconds`, over STARTTLS with AUTH PLAIN (or without AUTH when
 * `auth` is absent), every message with an X-Bench-Id header so the sink can tell when it arrived.
 */
import nodemailer from 'nodemailer';

export interface SubmissionLoad {
  readonly port: number;
  readonly auth?: { readonly user: string; readonly pass: string };
  readonly clients: number;
  readonly seconds: number;
  /** Body size of each message, bytes. */
  readonly size: number;
  readonly from: string;
  /** The recipient of the i-th message. */
  readonly rcpt: (i: number) => string;
  /** Prefix of the message ids (one per round, so rounds are told apart at the sink). */
  readonly label: string;
}

export interface LoadResult {
  /** performance.now() of each accepted message's 250, by bench id. */
  readonly accepted: Map<string, number>;
  /** Milliseconds from sendMail to the 250, per accepted message. */
  readonly submitMs: number[];
  readonly refused: number;
  /** From the first message to the last reply. */
  readonly seconds: number;
  readonly firstError?: string;
}

const LINE = `${'The quick brown fox jumps over the lazy dog, again and again and again.'}\r\n`;

export const BENCH_ID_HEADER = 'X-Bench-Id';

/** One message's text: the header block the benches share, then `size` bytes of 7-bit body. */
export function benchMessage(id: string, from: string, to: string, size: number): string {
  const head =
    `From: <${from}>\r\nTo: <${to}>\r\nSubject: bench ${id}\r\nDate: ${new Date().toUTCString()}\r\n` +
    `Message-ID: <${id}.${Date.now()}@bench.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n` +
    `${BENCH_ID_HEADER}: ${id}\r\n\r\n`;
  return head + LINE.repeat(Math.max(1, Math.ceil(size / LINE.length)));
}

/** The bench id in a message's header section (the first 8 KB are enough: servers add a few fields), or undefined. */
export function benchIdOf(data: Buffer): string | undefined {
  const start = data.subarray(0, 8192).toString('latin1');
  const end = start.indexOf('\r\n\r\n');
  const head = end === -1 ? start : start.slice(0, end);
  return new RegExp(`^${BENCH_ID_HEADER}: (\\S+)`, 'mi').exec(head)?.[1];
}

export async function runSubmissionLoad(load: SubmissionLoad): Promise<LoadResult> {
  const accepted = new Map<string, number>();
  const submitMs: number[] = [];
  let refused = 0;
  let firstError: string | undefined;
  let n = 0;
  const started = performance.now();
  const deadline = started + load.seconds * 1000;
  let last = started;
  const client = async (c: number) => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: load.port,
      secure: false,
      requireTLS: true,
      pool: true,
      maxConnections: 1,
      maxMessages: Number.POSITIVE_INFINITY,
      tls: { rejectUnauthorized: false },
      ...(load.auth ? { auth: { ...load.auth }, authMethod: 'PLAIN' } : {}),
    });
    try {
      while (performance.now() < deadline) {
        const i = n++;
        const id = `${load.label}-${c}-${i}`;
        const to = load.rcpt(i);
        const t = performance.now();
        try {
          await transport.sendMail({
            envelope: { from: load.from, to: [to] },
            raw: benchMessage(id, load.from, to, load.size),
          });
          last = performance.now();
          accepted.set(id, last);
          submitMs.push(last - t);
        } catch (err) {
          refused += 1;
          firstError ??= (err as Error).message;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      transport.close();
    }
  };
  await Promise.all(Array.from({ length: load.clients }, (_, c) => client(c)));
  return { accepted, submitMs, refused, seconds: (last - started) / 1000, firstError };
}

/** Milliseconds from each accepted message's 250 to its arrival at the sink; and how many never arrived. */
export function endToEnd(
  accepted: ReadonlyMap<string, number>,
  arrivals: ReadonlyMap<string, number>,
): { latencies: number[]; missing: number } {
  const latencies: number[] = [];
  let missing = 0;
  for (const [id, at] of accepted) {
    const arrived = arrivals.get(id);
    if (arrived === undefined) missing += 1;
    else latencies.push(arrived - at);
  }
  return { latencies, missing };
}

/** The p-th quantile (0..1) of `xs`, nearest rank; NaN when empty. */
export function quantile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}
