import { PRICES } from './prices.ts';

/**
 * One DynamoDB request kind an operation makes, named as the counting proxy names it (`Operation table`),
 * with the units one such request bills: `wru`/`rru` as the request itself implies (item sizes, transaction,
 * consistency: test/support/capacity.ts), `indexWru` for the secondary-index writes it causes on top.
 */
export interface DynamoRequest {
  readonly request: string;
  readonly count: number;
  readonly wru: number;
  readonly rru: number;
  readonly indexWru?: number;
  readonly why: string;
}

export interface S3Request {
  readonly request: 'PutObject' | 'GetObject' | 'HeadObject' | 'DeleteObject' | 'CopyObject' | 'ListObjects';
  readonly count: number;
  readonly why: string;
}

/** Lambda runs: how many, and the duration assumed for each (not measurable here: the functions run in-process). */
export interface LambdaRun {
  readonly fn: 'route' | 'filter' | 'store' | 'deliver' | 'sesFeedback';
  readonly count: number;
  readonly ms: number;
  /** Filled in from the template (lambdaSizes); these defaults are the stack's. */
  readonly memoryMb: number;
  readonly arm: boolean;
}

/** What one operation costs in requests. The measured parts are checked by test/e2e/cost-requests.test.ts. */
export interface Operation {
  readonly name: string;
  readonly dynamodb: readonly DynamoRequest[];
  readonly s3: readonly S3Request[];
  readonly lambda: readonly LambdaRun[];
  /** Messages handed to Amazon SES (SendEmail) and their bytes. */
  readonly ses?: { readonly messages: number; readonly bytes: number };
  /** Log bytes ingested: the gateway's lines as measured, plus the Lambdas' platform lines. */
  readonly logBytes: number;
}

/** START, END and REPORT: what Lambda itself logs for every invocation (about 300 bytes; an assumption). */
export const LAMBDA_PLATFORM_LOG_BYTES = 300;

const S3_PUT_CLASS = new Set(['PutObject', 'CopyObject', 'ListObjects']);

export interface PricedOperation {
  readonly lines: readonly { readonly item: string; readonly usd: number }[];
  readonly total: number;
}

/** Dollars for one run of `op`. */
export function priceOperation(op: Operation): PricedOperation {
  const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((n, x) => n + f(x), 0);
  const wru = sum(op.dynamodb, (r) => r.count * (r.wru + (r.indexWru ?? 0)));
  const rru = sum(op.dynamodb, (r) => r.count * r.rru);
  const puts = sum(op.s3, (r) => (S3_PUT_CLASS.has(r.request) ? r.count : 0));
  const gets = sum(op.s3, (r) => (S3_PUT_CLASS.has(r.request) ? 0 : r.count));
  const invocations = sum(op.lambda, (r) => r.count);
  const gbSecondsUsd = sum(
    op.lambda,
    (r) =>
      ((r.count * r.ms) / 1000) *
      (r.memoryMb / 1024) *
      (r.arm ? PRICES.lambdaGbSecondArm.usd : PRICES.lambdaGbSecondX86.usd),
  );
  const logBytes = op.logBytes + invocations * LAMBDA_PLATFORM_LOG_BYTES;
  const lines = [
    { item: `DynamoDB writes (${wru} WRU)`, usd: (wru * PRICES.dynamoWriteMillion.usd) / 1e6 },
    { item: `DynamoDB reads (${rru} RRU)`, usd: (rru * PRICES.dynamoReadMillion.usd) / 1e6 },
    {
      item: `S3 requests (${puts} PUT, ${gets} GET)`,
      usd: (puts * PRICES.s3PutThousand.usd + gets * PRICES.s3GetThousand.usd) / 1e3,
    },
    { item: `Lambda requests (${invocations})`, usd: (invocations * PRICES.lambdaRequestMillion.usd) / 1e6 },
    { item: 'Lambda duration', usd: gbSecondsUsd },
    { item: `CloudWatch Logs (${logBytes} bytes)`, usd: (logBytes * PRICES.logIngestionGb.usd) / 1e9 },
  ];
  if (op.ses) {
    lines.push({
      item: `SES (${op.ses.messages} message, ${op.ses.bytes} bytes)`,
      usd:
        (op.ses.messages * PRICES.sesOutboundThousand.usd) / 1e3 + (op.ses.bytes * PRICES.sesOutboundGb.usd) / 2 ** 30,
    });
  }
  return { lines, total: sum(lines, (l) => l.usd) };
}

/** The counts the test compares with what it measured, for `times` runs of the operation. */
export function modelCounts(op: Operation, times = 1) {
  const add = (into: Record<string, number>, key: string, n: number) => {
    into[key] = (into[key] ?? 0) + n * times;
  };
  const dynamodb: Record<string, number> = {};
  const capacity: Record<string, { wru: number; rru: number }> = {};
  for (const r of op.dynamodb) {
    add(dynamodb, r.request, r.count);
    const c = capacity[r.request] ?? { wru: 0, rru: 0 };
    capacity[r.request] = { wru: c.wru + r.count * r.wru * times, rru: c.rru + r.count * r.rru * times };
  }
  const s3: Record<string, number> = {};
  for (const r of op.s3) add(s3, r.request, r.count);
  const lambda: Record<string, number> = {};
  for (const r of op.lambda) add(lambda, r.fn, r.count);
  return { dynamodb, s3, lambda, capacity };
}

// ------------------------------------------------------------------------------------------ the operations

const STORE_ARM = { memoryMb: 512, arm: true } as const;
const SMALL_ARM = { memoryMb: 256, arm: true } as const;

/**
 * One message from the internet to one local mailbox (port 25 → route → filter → store), cold: the gateway's
 * directory cache and the store's mailbox hint empty, as for the first message in a while (warm, the directory
 * and mailbox reads mostly go). Durations are assumptions: route and store are a few DynamoDB round trips, the
 * filter waits on DNS for SPF, DKIM and DMARC.
 */
export const INBOUND_DELIVERY: Operation = {
  name: 'inbound delivery',
  dynamodb: [
    { request: 'GetItem directory', count: 4, wru: 0, rru: 1, why: 'domain, address, account, quota (strong)' },
    { request: 'GetItem mailboxes', count: 3, wru: 0, rru: 1, why: 'INBOX by name, its counters, usage' },
    {
      request: 'TransactWriteItems changes+mailboxes+messages',
      count: 1,
      wru: 14,
      rru: 0,
      indexWru: 1,
      why: '7 items × 2 (counters, usage, change, index item, idempotency, blob refs); byModseq LSI entry',
    },
  ],
  s3: [
    { request: 'PutObject', count: 1, why: 'the raw message (multipart above 5 MiB)' },
    { request: 'GetObject', count: 1, why: "the filter's read; store reuses its summary" },
  ],
  lambda: [
    { fn: 'route', count: 1, ms: 50, ...SMALL_ARM },
    { fn: 'filter', count: 1, ms: 300, ...STORE_ARM },
    { fn: 'store', count: 1, ms: 100, ...STORE_ARM },
  ],
  logBytes: 650,
};

/**
 * One submitted message to one remote domain (587 → enqueue → kicked deliver → next hop → complete), DKIM-signed.
 * The pass's `due` Query is counted whole: on a quiet system each message gets a pass of its own (busy, 50 share
 * one). In AWS the next hop is SES: one SendEmail per message. 300 ms of deliver per message (the transport's
 * round trips) is an assumption.
 */
export const OUTBOUND_MESSAGE: Operation = {
  name: 'outbound message',
  dynamodb: [
    { request: 'GetItem directory', count: 3, wru: 0, rru: 1, why: 'login, sender identity, recipient routing' },
    {
      request: 'TransactWriteItems mailboxes+queue',
      count: 2,
      wru: 5,
      rru: 0,
      indexWru: 1.5,
      why: 'enqueue (idempotency, entry, blob ref: 6 WRU; byState put 1) and complete (entry, blob ref: 4; key move 2)',
    },
    { request: 'Query queue', count: 1, wru: 0, rru: 0.5, why: 'due(now, 50), eventually consistent' },
    { request: 'UpdateItem queue', count: 1, wru: 1, rru: 0, indexWru: 2, why: 'claim; byState key moved' },
    { request: 'GetItem queue', count: 1, wru: 0, rru: 1, why: 'complete reads the entry (strong)' },
  ],
  s3: [
    { request: 'PutObject', count: 1, why: 'the message, once, at submission' },
    { request: 'GetObject', count: 2, why: 'the signer reads the header, the transport the whole message' },
  ],
  lambda: [
    { fn: 'route', count: 1, ms: 50, ...SMALL_ARM },
    { fn: 'deliver', count: 1, ms: 300, ...STORE_ARM },
  ],
  ses: { messages: 1, bytes: 0 },
  logBytes: 850,
};

/** One backstop poll of a session in IDLE (every POSTERN_IMAP_IDLE_POLL_MS, 30 s): the mailbox's counters. */
export const IDLE_POLL: Operation = {
  name: 'IDLE poll',
  dynamodb: [{ request: 'GetItem mailboxes', count: 1, wru: 0, rru: 1, why: 'the selected mailbox, strong' }],
  s3: [],
  lambda: [],
  logBytes: 0,
};
export const IDLE_POLLS_PER_HOUR = 3600 / 30;

/**
 * Storage per message: the raw message in S3 (75 KB, an assumed average with a small attachment now and then)
 * and its items in DynamoDB, which bills 100 bytes of overhead per item and per index entry on top. The item
 * bytes are an upper bound the test checks against what a delivery writes (a short message's items).
 */
export const STORED_MESSAGE = {
  averageBytes: 75 * 1024,
  /** The index item and its idempotency record (without the 100-byte overheads): 1,765 for the test's short message. */
  itemBytes: 2048,
  /** Items and index entries DynamoDB adds 100 bytes of overhead to: index item, idempotency, byModseq entry. */
  overheadItems: 3,
} as const;
/** A sweep with nothing due: what the deliver schedule's every run costs. */
export const IDLE_SWEEP: Operation = {
  name: 'idle sweep',
  dynamodb: [{ request: 'Query queue', count: 1, wru: 0, rru: 0.5, why: 'due(now, 50): nothing due' }],
  s3: [],
  lambda: [{ fn: 'deliver', count: 1, ms: 100, memoryMb: 512, arm: true }],
  logBytes: 0,
};
