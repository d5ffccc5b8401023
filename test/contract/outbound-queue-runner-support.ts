/**
 * The queue runner over the real queue (DynamoDB Local) and blob store (S3 stand-in), with a transport that
 * records what it was given and answers as the test says, and fault injection in front of each port.
 */
import type { Readable } from 'node:stream';
import { TemporaryError } from '../../lib/core/errors.ts';
import { silentLogger } from '../../lib/core/log.ts';
import type {
  DeliveryResult,
  OutboundEnvelope,
  OutboundQueue,
  QueueEntryInput,
  RecipientOutcome,
  Transport,
} from '../../lib/core/outbound.ts';
import type { BlobStore } from '../../lib/core/ports.ts';
import type { RunnerDeps, RunnerPolicy } from '../../lib/outbound/runner.ts';
import type { OutcomeReport } from '../../lib/outbound/runnerReport.ts';
import { entryInput, type QueueFixture } from './outbound-queue-support.ts';

export interface Sent {
  readonly envelope: OutboundEnvelope;
  readonly text: string;
  readonly size: number;
}

/** Answers per recipient address: a result, or a function of the attempt number for that address. */
export type Answer = DeliveryResult | ((attempt: number) => DeliveryResult);

export class RecordingTransport implements Transport {
  readonly name = 'recording';
  readonly sent: Sent[] = [];
  readonly answers = new Map<string, Answer>();
  failNext = 0;
  inFlight = 0;
  maxInFlight = 0;
  delayMs = 0;
  /** Addresses whose next hop takes the DSN parameters (it reports success itself, RFC 3461 §6.2.6.1). */
  readonly dsnCapable = new Set<string>();
  private readonly tries = new Map<string, number>();

  async deliver(envelope: OutboundEnvelope, open: () => Promise<Readable>, size: number): Promise<RecipientOutcome[]> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error('connection refused');
      }
      const text = await readAll(await open());
      this.sent.push({ envelope, text, size });
      return envelope.recipients.map((address) => {
        const n = (this.tries.get(address) ?? 0) + 1;
        this.tries.set(address, n);
        const answer = this.answers.get(address) ?? 'delivered';
        const result = typeof answer === 'function' ? answer(n) : answer;
        const reply = { delivered: '250 2.0.0 ok', deferred: '451 4.7.1 try later', failed: '550 5.1.1 no such user' };
        const handedOn = result === 'delivered' && this.dsnCapable.has(address);
        return {
          address,
          result,
          reply: reply[result],
          remoteMta: 'mx.test',
          ...(handedOn ? { handedTo: 'dsn-relay' as const } : {}),
        };
      });
    } finally {
      this.inFlight--;
    }
  }

  /** How many times the transport accepted a message for this address. */
  deliveriesTo(address: string): number {
    return this.sent.filter((s) => s.envelope.recipients.includes(address)).length;
  }
}

export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Makes the next `n` calls of `method` on the wrapped port fail as the service failing would. */
export function faulty<T extends object>(inner: T): { port: T; fail(method: keyof T, n?: number): void } {
  const failures = new Map<PropertyKey, number>();
  const port = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const left = failures.get(prop) ?? 0;
        if (left > 0) {
          failures.set(prop, left - 1);
          const err = new TemporaryError(`injected ${String(prop)} failure`);
          // list() is an async iterable, not a promise: fail it on iteration.
          return prop === 'list'
            ? { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }) }
            : Promise.reject(err);
        }
        return value.apply(target, args);
      };
    },
  });
  return { port, fail: (method, n = 1) => failures.set(method, n) };
}

export const TEST_POLICY: RunnerPolicy = {
  retrySchedule: [300, 600],
  queueLifetimeMs: 3_600_000,
  delayWarningMs: 900_000,
  concurrency: 4,
  batchSize: 50,
  claimMs: 60_000,
};

export interface RunnerHarness {
  readonly transport: RecordingTransport;
  readonly queue: ReturnType<typeof faulty<OutboundQueue>>;
  readonly blobs: ReturnType<typeof faulty<BlobStore>>;
  readonly reports: OutcomeReport[];
  deps(extra?: Partial<RunnerDeps>): RunnerDeps;
  /** Uploads a message and queues it for `domain`. */
  enqueue(domain: string, locals: readonly string[], extra?: Partial<QueueEntryInput>): Promise<QueueEntryInput>;
}

export const MESSAGE = 'From: Alice <alice@example.org>\r\nTo: x@y\r\nSubject: hi\r\n\r\nhello\r\n';

export function runnerHarness(f: QueueFixture, policy: RunnerPolicy = TEST_POLICY): RunnerHarness {
  const transport = new RecordingTransport();
  const queue = faulty<OutboundQueue>(f.queue);
  const blobs = faulty<BlobStore>(f.storage.blobs);
  const reports: OutcomeReport[] = [];
  return {
    transport,
    queue,
    blobs,
    reports,
    deps: (extra = {}) => ({
      queue: queue.port,
      blobs: blobs.port,
      transport,
      policy,
      log: silentLogger,
      now: f.now,
      reportOutcome: async (r) => {
        reports.push(r);
      },
      ...extra,
    }),
    async enqueue(domain, locals, extra = {}) {
      const input = entryInput(domain, locals, { size: Buffer.byteLength(MESSAGE), ...extra });
      await f.storage.blobs.put(input.blobKey, Buffer.from(MESSAGE));
      await f.queue.enqueue([input], `k-${input.id}`);
      return input;
    },
  };
}
