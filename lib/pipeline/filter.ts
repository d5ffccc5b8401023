/**
 * The filter (MDA checks). It gets the S3 key, never the body, and reads the stored object once, feeding
 * every chunk to mailauth (SPF, DKIM, DMARC, ARC), the MIME indexer (the IMAP summary the store step
 * writes) and the virus scanner. Then the spam scorer decides the mailbox.
 *
 * Verdicts:
 * - DMARC fail with p=reject (pct=100 or absent) refuses the message (550 5.7.1) at SMTP time; p=quarantine,
 *   or p=reject sampled with pct<100 (RFC 7489 §6.6.4: the next lower policy applies), go to Junk. A DMARC
 *   temperror delivers normally (the sender is not punished for DNS trouble).
 * - A virus refuses the message (554 5.7.1).
 * - Spam score >= threshold: Junk with X-Spam-Flag: YES; >= rejectThreshold: refused (550 5.7.1).
 *
 * The header fields returned (Received-SPF, Authentication-Results per RFC 8601 with our authserv-id,
 * X-Spam-*) go in front of each copy (the store step's headerPrefix), above our Received field, because the
 * stored object is written before the filter runs and is never rewritten.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { authenticate } from 'mailauth';
import type { BlobStore } from '../core/ports.ts';
import { SummaryBuilder } from '../mime/summary.ts';
import type { FilterRequest, FilterResult } from './contracts.ts';
import type { Resolver } from './dns.ts';
import { gtubeFinder, type SpamScorer, type VirusScanner } from './verdict.ts';

export type { FilterRequest, FilterResult } from './contracts.ts';

export interface FilterDeps {
  readonly blobs: BlobStore;
  readonly resolver: Resolver;
  readonly scorer: SpamScorer;
  readonly scanner: VirusScanner;
}

interface AuthOutcome {
  spf: string;
  dkim: string[];
  dmarc: string;
  arc: string;
  dmarcPolicy?: string;
  dmarcPct?: number;
  dmarcDomain?: string;
  headers: string;
}

function resultOf(x: unknown): string {
  return ((x as { status?: { result?: string } } | undefined)?.status?.result ?? 'none').toLowerCase();
}

export async function filter(deps: FilterDeps, req: FilterRequest): Promise<FilterResult> {
  const body = await deps.blobs.get(req.blobKey);
  const toAuth = new PassThrough({ highWaterMark: 256 * 1024 });
  const authDone = authenticate(toAuth, {
    ip: req.clientIp,
    helo: req.helo || undefined,
    sender: req.mailFrom,
    mta: req.authservId,
    resolver: deps.resolver as never,
    disableBimi: true,
  });
  let authError: unknown;
  const authSettled = authDone.then(
    () => undefined,
    (err) => {
      authError = err;
    },
  );
  const summary = new SummaryBuilder();
  const scan = deps.scanner.start();
  const gtube = gtubeFinder();
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      summary.write(chunk);
      scan.write(chunk);
      gtube.write(chunk);
      if (authError === undefined && !toAuth.write(chunk)) {
        await Promise.race([once(toAuth, 'drain'), authSettled]);
      }
    }
  } finally {
    toAuth.end();
  }
  const auth = await authDone.then((r) => {
    const dmarc = r.dmarc as { status?: { result?: string }; policy?: string; pct?: number; domain?: string } | false;
    const out: AuthOutcome = {
      spf: resultOf(r.spf),
      dkim: ((r.dkim?.results ?? []) as unknown[]).map(resultOf),
      dmarc: dmarc ? resultOf(dmarc) : 'none',
      arc: r.arc ? resultOf(r.arc) : 'none',
      dmarcPolicy: dmarc ? dmarc.policy?.toLowerCase() : undefined,
      dmarcPct: dmarc ? dmarc.pct : undefined,
      dmarcDomain: dmarc ? dmarc.domain : undefined,
      headers: r.headers,
    };
    return out;
  });
  if (size !== req.blobSize) throw new Error(`filter read ${size} octets of ${req.blobKey}, expected ${req.blobSize}`);
  const messageSummary = summary.end();
  const virus = await scan.end();
  const spamScore = await deps.scorer.score({
    spf: auth.spf,
    dkim: auth.dkim,
    dmarc: auth.dmarc,
    arc: auth.arc,
    headers: summary.headers(),
    summary: messageSummary,
    size,
    mailFrom: req.mailFrom,
    gtube: gtube.found,
  });
  const spam = { score: spamScore.score, threshold: deps.scorer.threshold, tests: spamScore.tests };
  const isSpam = spam.score >= spam.threshold;
  const dmarc = { result: auth.dmarc, policy: auth.dmarcPolicy, domain: auth.dmarcDomain };
  const dmarcFail = auth.dmarc === 'fail';
  const dmarcReject =
    dmarcFail && auth.dmarcPolicy === 'reject' && (auth.dmarcPct === undefined || auth.dmarcPct >= 100);
  const dmarcQuarantine =
    dmarcFail && !dmarcReject && (auth.dmarcPolicy === 'reject' || auth.dmarcPolicy === 'quarantine');

  const spamHeaders =
    (isSpam ? 'X-Spam-Flag: YES\r\n' : '') +
    `X-Spam-Score: ${spam.score.toFixed(1)}\r\n` +
    `X-Spam-Status: ${isSpam ? 'Yes' : 'No'}, score=${spam.score.toFixed(1)} required=${spam.threshold.toFixed(1)}` +
    ` tests=${spam.tests.length ? spam.tests.join(',') : 'none'}\r\n`;
  const authHeaders = auth.headers.endsWith('\r\n') ? auth.headers : `${auth.headers}\r\n`;
  const base = { spam, virus, dmarc, summary: messageSummary, headers: authHeaders + spamHeaders };

  if (virus.infected) {
    return {
      ...base,
      action: 'reject',
      mailbox: 'INBOX',
      reply: { code: 554, enhanced: '5.7.1', text: `Message rejected: virus found (${virus.name ?? 'unknown'})` },
    };
  }
  if (dmarcReject) {
    return {
      ...base,
      action: 'reject',
      mailbox: 'INBOX',
      reply: {
        code: 550,
        enhanced: '5.7.1',
        text: `Message rejected: DMARC policy of ${auth.dmarcDomain ?? 'the author domain'} says reject`,
      },
    };
  }
  if (spam.score >= deps.scorer.rejectThreshold) {
    return {
      ...base,
      action: 'reject',
      mailbox: 'INBOX',
      reply: { code: 550, enhanced: '5.7.1', text: 'Message rejected as spam' },
    };
  }
  return { ...base, action: 'deliver', mailbox: isSpam || dmarcQuarantine ? 'Junk' : 'INBOX' };
}
