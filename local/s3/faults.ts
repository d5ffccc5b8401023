/**
 * Fault injection for tests, in-process only (`server.faults.failNext(...)`): mail-delivery tests make
 * operations fail to prove no mail is lost. A rule makes the next `count` requests for its operation (or
 * any, for 'any') answer `status` with an S3 error document, without doing anything. Rules apply in the
 * order they were added; one request uses up at most one count of one rule.
 */
export const FAULT_OPS = [
  'PutObject',
  'CreateMultipartUpload',
  'UploadPart',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'GetObject',
  'HeadObject',
  'DeleteObject',
  'CreateBucket',
  'HeadBucket',
  'any',
] as const;

export type FaultOp = (typeof FAULT_OPS)[number];

export interface FaultRule {
  op: FaultOp;
  remaining: number;
  status: number;
}

/** S3's code for an injected status: the SDK retries SlowDown (503) and InternalError (500). */
const FAULT_CODES: Record<number, [code: string, message: string]> = {
  500: ['InternalError', 'We encountered an internal error. Please try again.'],
  503: ['SlowDown', 'Please reduce your request rate.'],
};

export class FaultInjector {
  private rules: FaultRule[] = [];

  /**
   * Fail the next `count` requests for `op` with `status` (503 SlowDown by default). The SDK makes 3 attempts
   * by default: use count >= 3, or a client with maxAttempts: 1, when the failure must reach the caller.
   */
  failNext(op: FaultOp, count = 1, status = 503): void {
    if (!FAULT_OPS.includes(op)) throw new TypeError(`unknown fault op: ${String(op)}`);
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`fault count must be a positive integer: ${count}`);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`fault status must be an HTTP error status (400-599): ${status}`);
    }
    this.rules.push({ op, remaining: count, status });
  }

  clear(): void {
    this.rules = [];
  }

  pending(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** The fault for this request, if a rule matches its operation (using up one count of the rule). */
  take(op: string): { status: number; code: string; message: string } | undefined {
    const index = this.rules.findIndex((r) => r.op === 'any' || r.op === op);
    if (index < 0) return undefined;
    const rule = this.rules[index];
    if (--rule.remaining <= 0) this.rules.splice(index, 1);
    const [code, message] = FAULT_CODES[rule.status] ?? ['InjectedFault', `Injected fault with status ${rule.status}.`];
    return { status: rule.status, code, message };
  }
}
