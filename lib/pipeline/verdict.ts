/**
 * Spam and virus verdicts behind small interfaces, so real engines (rspamd, ClamAV, a managed service) can
 * replace the defaults without touching the filter. The defaults are deliberately simple and predictable:
 *
 * - DefaultScorer adds points for failed or missing authentication and for a few structural smells. Above
 *   `threshold` (5) the message goes to Junk with X-Spam-Flag: YES; above `rejectThreshold` (15) it is refused.
 * - EicarScanner finds the EICAR anti-virus test string, nothing else; a hit refuses the message.
 */
import type { HeaderField } from '../mime/headers.ts';
import type { MessageSummary } from '../mime/summary.ts';

/** What the filter knows when it asks for a score. */
export interface ScoreInput {
  readonly spf: string;
  readonly dkim: readonly string[];
  readonly dmarc: string;
  readonly arc: string;
  readonly headers: readonly HeaderField[];
  readonly summary?: MessageSummary;
  readonly size: number;
  readonly mailFrom: string;
  /** Whether the raw message contains the GTUBE spam test string. */
  readonly gtube: boolean;
}

export interface Score {
  readonly score: number;
  readonly tests: readonly string[];
}

export interface SpamScorer {
  readonly threshold: number;
  /** A score at or above this refuses the message at SMTP time; Infinity never does. */
  readonly rejectThreshold: number;
  score(input: ScoreInput): Promise<Score>;
}

export interface VirusScanner {
  /** Sees every chunk of the message as the filter reads it. */
  start(): VirusScan;
}

export interface VirusScan {
  write(chunk: Buffer): void;
  end(): Promise<{ infected: boolean; name?: string }>;
}

const RULES: readonly { name: string; points: number; test: (i: ScoreInput) => boolean }[] = [
  { name: 'SPF_FAIL', points: 3, test: (i) => i.spf === 'fail' },
  { name: 'SPF_SOFTFAIL', points: 1.5, test: (i) => i.spf === 'softfail' },
  {
    name: 'DKIM_INVALID',
    points: 2,
    test: (i) => i.dkim.some((r) => r === 'fail' || r === 'neutral') && !i.dkim.includes('pass'),
  },
  { name: 'DMARC_FAIL', points: 3, test: (i) => i.dmarc === 'fail' },
  { name: 'ARC_FAIL', points: 1, test: (i) => i.arc === 'fail' },
  { name: 'MISSING_DATE', points: 1, test: (i) => !i.headers.some((h) => h.name === 'date') },
  { name: 'MISSING_MID', points: 1, test: (i) => !i.headers.some((h) => h.name === 'message-id') },
  { name: 'MISSING_FROM', points: 2, test: (i) => !i.headers.some((h) => h.name === 'from') },
  {
    name: 'SUBJ_ALL_CAPS',
    points: 1,
    test: (i) => {
      const s = i.summary?.headers.subject ?? '';
      return s.length >= 10 && /[A-Z]/.test(s) && s === s.toUpperCase();
    },
  },
  {
    name: 'GTUBE',
    points: 1000,
    test: (i) => i.gtube,
  },
];

export class DefaultScorer implements SpamScorer {
  constructor(
    readonly threshold = 5,
    readonly rejectThreshold = 15,
  ) {}

  async score(input: ScoreInput): Promise<Score> {
    const hits = RULES.filter((r) => r.test(input));
    const score = Math.round(hits.reduce((s, r) => s + r.points, 0) * 10) / 10;
    return { score, tests: hits.map((r) => r.name) };
  }
}

const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
const GTUBE_BODY = Buffer.from('XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X');

/** Finds one fixed byte string in a stream of chunks, also when it straddles a chunk boundary. */
export function streamingFinder(needle: Buffer): { write(chunk: Buffer): void; readonly found: boolean } {
  let tail = Buffer.alloc(0);
  let found = false;
  return {
    write(chunk) {
      if (found) return;
      const window = tail.length ? Buffer.concat([tail, chunk]) : chunk;
      if (window.indexOf(needle) !== -1) found = true;
      tail = Buffer.from(window.subarray(Math.max(0, window.length - needle.length)));
    },
    get found() {
      return found;
    },
  };
}

/** Finds the EICAR test string anywhere in the raw message. */
export class EicarScanner implements VirusScanner {
  start(): VirusScan {
    const finder = streamingFinder(EICAR);
    return {
      write: (chunk) => finder.write(chunk),
      end: async () => (finder.found ? { infected: true, name: 'Eicar-Test-Signature' } : { infected: false }),
    };
  }
}

/** Whether the body contains the GTUBE spam test string (the default scorer's body check). */
export const gtubeFinder = () => streamingFinder(GTUBE_BODY);
