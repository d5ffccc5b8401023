/**
 * SEARCH SENTBEFORE/SENTON/SENTSINCE take the Date header's day as written, "disregarding time and
 * timezone" (RFC 3501 §6.4.4, RFC 9051 §6.4.4): sentDay over the stored summary's raw Date value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageMeta } from '../../lib/core/ports.ts';
import { sentDay } from '../../lib/imap/searchEval.ts';
import { summarizeBuffer } from '../../lib/mime/summary.ts';

const metaWith = (date: string | undefined): MessageMeta => {
  const header = date === undefined ? '' : `Date: ${date}\r\n`;
  const summary = summarizeBuffer(Buffer.from(`${header}Subject: s\r\n\r\nbody\r\n`));
  return { summary } as unknown as MessageMeta;
};
const day = (date: string | undefined) => {
  const d = sentDay(metaWith(date));
  return d === undefined ? undefined : new Date(d).toISOString().slice(0, 10);
};

describe('sentDay: the Date header in its own zone (RFC 3501 §6.4.4)', () => {
  it('keeps the written day whatever the zone', () => {
    assert.equal(day('Tue, 1 Jan 2002 23:30:00 -0500'), '2002-01-01');
    assert.equal(day('Wed, 2 Jan 2002 00:10:00 +1400'), '2002-01-02');
    assert.equal(day('2 Jan 2002 10:00:00 GMT'), '2002-01-02');
  });

  it('reads the obsolete forms of RFC 5322 §4.3: two- and three-digit years, full month names', () => {
    assert.equal(day('Thu, 31 Dec 99 23:59:59 EST'), '1999-12-31');
    assert.equal(day('1 Feb 07 08:00 +0100'), '2007-02-01');
    assert.equal(day('1 Mar 102 08:00 +0000'), '2002-03-01');
    assert.equal(day('Mon, 4 March 2024 12:00 +0000'), '2024-03-04');
  });

  it('no Date header, or one nothing reads, matches no SENT* key', () => {
    assert.equal(day(undefined), undefined);
    assert.equal(day('sometime last week'), undefined);
  });
});
