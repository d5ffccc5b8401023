/**
 * Counts the AWS requests a process makes: a reverse proxy in front of DynamoDB Local and the S3 stand-in
 * that forwards every request unchanged (the Host header too, so SigV4 signatures still hold) and counts it
 * by operation. The process measured is pointed at the proxies' endpoints; nothing in it is changed.
 */
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AwsService = 'dynamodb' | 's3';

/** The operation a request is, from what travels on the wire (DynamoDB's X-Amz-Target, S3's method and query). */
export function awsOperation(service: AwsService, method: string, url: string, headers: IncomingHttpHeaders): string {
  if (service === 'dynamodb') {
    const target = String(headers['x-amz-target'] ?? '');
    return target.slice(target.indexOf('.') + 1) || 'unknown';
  }
  const [path, query = ''] = url.split('?', 2);
  const params = new URLSearchParams(query);
  const hasKey = path.split('/').filter(Boolean).length > 1;
  switch (method) {
    case 'PUT':
      if (params.has('partNumber')) return 'UploadPart';
      return hasKey ? (headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject') : 'CreateBucket';
    case 'GET':
      if (!hasKey) return 'ListObjects';
      return params.has('uploadId') ? 'ListParts' : 'GetObject';
    case 'HEAD':
      return hasKey ? 'HeadObject' : 'HeadBucket';
    case 'DELETE':
      return params.has('uploadId') ? 'AbortMultipartUpload' : hasKey ? 'DeleteObject' : 'DeleteBucket';
    case 'POST':
      if (params.has('delete')) return 'DeleteObjects';
      if (params.has('uploads')) return 'CreateMultipartUpload';
      if (params.has('uploadId')) return 'CompleteMultipartUpload';
      return 'PostObject';
    default:
      return method;
  }
}

export interface CountingProxy {
  readonly endpoint: string;
  /** Requests by operation since the start (or the last reset). */
  counts(): Record<string, number>;
  /** Milliseconds from each request's arrival to the end of its answer, summed by operation. */
  millis(): Record<string, number>;
  reset(): void;
  close(): Promise<void>;
}

/**
 * The tables a DynamoDB request names (TableName, or the tables of a batch or transaction), sorted, without
 * `prefix`; [] when the body is not JSON.
 */
export function dynamoTables(body: string, prefix = ''): string[] {
  const found = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) visit(x);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'TableName' && typeof x === 'string') found.add(x);
        else if (k === 'RequestItems' && x && typeof x === 'object') for (const t of Object.keys(x)) found.add(t);
        // items and keys hold attribute values, never table names
        if (k !== 'Item' && k !== 'Key' && k !== 'ExpressionAttributeValues') visit(x);
      }
    }
  };
  try {
    visit(JSON.parse(body));
  } catch {
    return [];
  }
  return [...found].map((t) => (t.startsWith(prefix) ? t.slice(prefix.length) : t)).sort();
}

/** Sees each DynamoDB request as counted (`GetItem directory`) with its JSON body (lib/cost's capacity check). */
export type DynamoObserver = (op: string, body: string) => void;

/**
 * A proxy to `target` (http://host:port) counting each request by operation; DynamoDB operations are
 * counted per table too (`GetItem directory`), `tablePrefix` left out of the names.
 */
export async function countingProxy(
  service: AwsService,
  target: string,
  tablePrefix = '',
  observe?: DynamoObserver,
): Promise<CountingProxy> {
  const to = new URL(target);
  let counts = new Map<string, number>();
  let millis = new Map<string, number>();
  const server: Server = createServer(async (req, res) => {
    const started = performance.now();
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    let op = awsOperation(service, req.method ?? '', req.url ?? '/', req.headers);
    if (service === 's3') req.pipe(upstream);
    else {
      // DynamoDB requests are small JSON: read whole, so the tables they touch can be named
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      upstream.end(body);
      op = `${op} ${dynamoTables(body.toString('utf8'), tablePrefix).join('+')}`;
      observe?.(op, body.toString('utf8'));
    }
    counts.set(op, (counts.get(op) ?? 0) + 1);
    res.once('finish', () => millis.set(op, (millis.get(op) ?? 0) + performance.now() - started));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => Object.fromEntries(counts),
    millis: () => Object.fromEntries(millis),
    reset: () => {
      counts = new Map();
      millis = new Map();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The difference of two count snapshots (after − before), operations with none left out. */
export function countsSince(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(after)) {
    const d = n - (before[op] ?? 0);
    if (d > 0) out[op] = d;
  }
  return out;
}
