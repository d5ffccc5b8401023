import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function encodeTime(ms: number): string {
  let time = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time;
}

/** 80 random bits as 16 base32 digits (values 0..31), most significant first. */
function randomDigits(): number[] {
  const bytes = randomBytes(16);
  return Array.from(bytes, (b) => b % 32);
}

/** Adds one to the 80-bit random part; false when it overflows (2^80 ids in one millisecond). */
function increment(digits: number[]): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i] < 31) {
      digits[i] += 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

/**
 * A monotonic ULID factory (the spec's "monotonicity" section): 48-bit millisecond time + 80 random bits,
 * Crockford base32. Within one millisecond (or when the clock steps back) the random part of the previous id
 * is incremented instead of drawn anew, so ids made by one process sort in the order they were made. That
 * keeps S3 listings and logs in arrival order.
 */
export function monotonicUlid(clock: () => number = Date.now): () => string {
  let lastTime = -1;
  let last: number[] = [];
  return () => {
    const now = clock();
    if (now > lastTime || !increment(last)) {
      lastTime = Math.max(now, lastTime + (now > lastTime ? 0 : 1));
      last = randomDigits();
    }
    return encodeTime(lastTime) + last.map((d) => CROCKFORD[d]).join('');
  };
}

/** The process's ULID source: ids sort by creation, also within one millisecond. */
export const ulid: () => string = monotonicUlid();

/** A short random id for things that need no order (mailbox ids, account ids, connection ids). */
export function randomId(bytes = 12): string {
  return randomBytes(bytes).toString('base64url');
}
