/**
 * Fault injection for the local S3 stand-in. Mail-delivery tests use it to
 * make specific operations fail and prove that no mail is lost.
 *
 * A rule `{ op, remaining, status }` makes the next `remaining` requests whose
 * operation matches `op` (or any operation for 'any') answer `status` with an
 * S3 error document, without performing the operation. Rules are consulted in
 * the order they were added; one request consumes at most one rule count.
 */

/** Operations that can be targeted individually. */
export const FAULT_OPS = [
  'PutObject',
  'UploadPart',
  'CompleteMultipartUpload',
  'CreateMultipartUpload',
  'AbortMultipartUpload',
  'GetObject',
  'HeadObject',
  'DeleteObject',
  'DeleteObjects',
  'CopyObject',
  'ListObjectsV2',
  'ListObjects',
  'CreateBucket',
  'HeadBucket',
  'DeleteBucket',
  'ListBuckets',
  'any',
] as const;

export type FaultOp = (typeof FAULT_OPS)[number];

export interface FaultRule {
  op: FaultOp;
  remaining: number;
  status: number;
}

export interface InjectedFault {
  status: number;
  code: string;
  message: string;
}

export function isFaultOp(value: unknown): value is FaultOp {
  return typeof value === 'string' && (FAULT_OPS as readonly string[]).includes(value);
}

/** S3 error code used for an injected status. */
export function faultCode(status: number): { code: string; message: string } {
  switch (status) {
    case 503:
      return { code: 'SlowDown', message: 'Please reduce your request rate.' };
    case 500:
      return { code: 'InternalError', message: 'We encountered an internal error. Please try again.' };
    case 400:
      return { code: 'InvalidRequest', message: 'Injected fault.' };
    case 403:
      return { code: 'AccessDenied', message: 'Access Denied' };
    case 404:
      return { code: 'NoSuchKey', message: 'The specified key does not exist.' };
    case 409:
      return { code: 'OperationAborted', message: 'A conflicting conditional operation is currently in progress.' };
    case 412:
      return { code: 'PreconditionFailed', message: 'At least one of the pre-conditions you specified did not hold' };
    default:
      return { code: 'InjectedFault', message: `Injected fault with status ${status}.` };
  }
}

export class FaultInjector {
  private rules: FaultRule[] = [];
  private injectedCount = 0;

  /**
   * Make the next `count` requests for `op` fail with `status` (default 503,
   * answered as SlowDown; 500 is InternalError). The AWS SDK retries 500/503
   * (3 attempts by default), so use count >= 3 or a client with maxAttempts: 1
   * when the failure must surface to the caller.
   */
  failNext(op: FaultOp, count = 1, status = 503): void {
    if (!isFaultOp(op)) throw new TypeError(`unknown fault op: ${String(op)}`);
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`fault count must be a positive integer: ${count}`);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`fault status must be an HTTP error status (400-599): ${status}`);
    }
    this.rules.push({ op, remaining: count, status });
  }

  /** Remove every pending fault. */
  clear(): void {
    this.rules = [];
  }

  /** Snapshot of the pending rules. */
  pending(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** How many requests have been failed by injection since start. */
  get injected(): number {
    return this.injectedCount;
  }

  /** Called by the server for each request; consumes a matching rule. */
  take(op: string): InjectedFault | undefined {
    const idx = this.rules.findIndex((r) => r.op === 'any' || r.op === op);
    if (idx < 0) return undefined;
    const rule = this.rules[idx];
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules.splice(idx, 1);
    this.injectedCount += 1;
    return { status: rule.status, ...faultCode(rule.status) };
  }
}
