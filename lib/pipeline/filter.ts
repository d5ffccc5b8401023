/**
 * The filter (MDA checks). It gets the S3 key, never the body, and reads the stored object once, feeding
 * every chunk to mailauth (SPF, DKIM, DMARC, ARC), the MIME indexer (the IMAP summary the store step
 * writes) and the virus scanner. Then the spam scorer decides the mailbox.
 *
 * Verdicts:
 * - DMARC (RFC 9989, see dmarc.ts): the policy the author domain published, as it applies to this author
 *   domain (`sp` for a subdomain, `np` for a non-existent one, found by the DNS Tree Walk), with strict
 *   alignment (`adkim=s`, `aspf=s`) meaning identical domains. On a fail, `reject` refuses the message
 *   (550 5.7.1) at SMTP time and `quarantine` delivers it to Junk. A record in testing mode (`t=y`, or a
 *   legacy `pct` below 100 without `t`) gets one level lower: reject → quarantine, quarantine → none.
 *   A DMARC temperror delivers normally (the sender is not punished for DNS trouble).
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
import type { ArcSealInput } from '../core/outbound.ts';
import type { BlobStore } from '../core/ports.ts';
import { SummaryBuilder } from '../mime/summary.ts';
import type { FilterRequest, FilterResult } from './contracts.ts';
import { type DmarcVerdict, dmarcVerdict, withAppliedPolicy } from './dmarc.ts';
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
  dmarc: DmarcVerdict;
  arc: string;
  headers: string;
  arcSeal?: ArcSealInput;
}

/** The forwarder's ARC input: mailauth's Authentication-Results value and the incoming chain, when it is none or pass. */
function arcSealInput(arc: unknown): ArcSealInput | undefined {
  const a = arc as { authResults?: string; status?: { result?: string } } | undefined;
  const cv = (a?.status?.result ?? 'none').toLowerCase();
  if (!a?.authResults || (cv !== 'none' && cv !== 'pass')) return undefined;
  return { authResults: a.authResults, cv };
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
  const auth = await authDone.then(
    (r): AuthOutcome => ({
      spf: resultOf(r.spf),
      dkim: ((r.dkim?.results ?? []) as unknown[]).map(resultOf),
      dmarc: dmarcVerdict(r.dmarc),
      arc: r.arc ? resultOf(r.arc) : 'none',
      headers: r.headers,
      arcSeal: arcSealInput(r.arc),
    }),
  );
  if (size !== req.blobSize) throw new Error(`filter read ${size} octets of ${req.blobKey}, expected ${req.blobSize}`);
  const messageSummary = summary.end();
  const virus = await scan.end();
  const spamScore = await deps.scorer.score({
    spf: auth.spf,
    dkim: auth.dkim,
    dmarc: auth.dmarc.result,
    arc: auth.arc,
    headers: summary.headers(),
    summary: messageSummary,
    size,
    mailFrom: req.mailFrom,
    gtube: gtube.found,
  });
  const spam = { score: spamScore.score, threshold: deps.scorer.threshold, tests: spamScore.tests };
  const isSpam = spam.score >= spam.threshold;
  const dmarc = { result: auth.dmarc.result, policy: auth.dmarc.policy, domain: auth.dmarc.domain };

  const spamHeaders =
    (isSpam ? 'X-Spam-Flag: YES\r\n' : '') +
    `X-Spam-Score: ${spam.score.toFixed(1)}\r\n` +
    `X-Spam-Status: ${isSpam ? 'Yes' : 'No'}, score=${spam.score.toFixed(1)} required=${spam.threshold.toFixed(1)}` +
    ` tests=${spam.tests.length ? spam.tests.join(',') : 'none'}\r\n`;
  const authText = withAppliedPolicy(auth.headers, auth.dmarc);
  const authHeaders = authText.endsWith('\r\n') ? authText : `${authText}\r\n`;
  const base = {
    spam,
    virus,
    dmarc,
    summary: messageSummary,
    headers: authHeaders + spamHeaders,
    ...(auth.arcSeal ? { arc: auth.arcSeal } : {}),
  };

  if (virus.infected) {
    return {
      ...base,
      action: 'reject',
      rejected: 'virus',
      mailbox: 'INBOX',
      reply: { code: 554, enhanced: '5.7.1', text: `Message rejected: virus found (${virus.name ?? 'unknown'})` },
    };
  }
  if (auth.dmarc.disposition === 'reject') {
    return {
      ...base,
      action: 'reject',
      rejected: 'dmarc',
      mailbox: 'INBOX',
      reply: {
        code: 550,
        enhanced: '5.7.1',
        text: `Message rejected: DMARC policy of ${auth.dmarc.domain ?? 'the author domain'} says reject`,
      },
    };
  }
  if (spam.score >= deps.scorer.rejectThreshold) {
    return {
      ...base,
      action: 'reject',
      rejected: 'spam',
      mailbox: 'INBOX',
      reply: { code: 550, enhanced: '5.7.1', text: 'Message rejected as spam' },
    };
  }
  return { ...base, action: 'deliver', mailbox: isSpam || auth.dmarc.disposition === 'quarantine' ? 'Junk' : 'INBOX' };
}
