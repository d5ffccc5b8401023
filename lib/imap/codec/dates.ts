/**
 * IMAP dates (RFC 9051 §9): `date` for SEARCH (`1-Feb-1994`, optionally quoted) and `date-time` for
 * INTERNALDATE and APPEND (`"17-Jul-1996 02:44:25 -0700"`).
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A calendar date; SEARCH compares it in the server's time zone or UTC, as the session decides. */
export interface ImapDate {
  readonly year: number;
  /** 1..12 */
  readonly month: number;
  readonly day: number;
}

export interface ImapDateTime {
  /** The instant. */
  readonly date: Date;
  /** The zone the client gave, in minutes east of UTC (`-0700` is -420). */
  readonly offsetMinutes: number;
}

function monthNumber(name: string): number {
  const i = MONTHS.findIndex((m) => m.toLowerCase() === name.toLowerCase());
  return i + 1;
}

function validDay(year: number, month: number, day: number): boolean {
  return day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** date-text = date-day "-" date-month "-" date-year */
export function parseDate(text: string): ImapDate | null {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!m) return null;
  const day = Number(m[1]);
  const month = monthNumber(m[2]);
  const year = Number(m[3]);
  if (month === 0 || !validDay(year, month, day)) return null;
  return { year, month, day };
}

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE (quotes removed). */
export function parseDateTime(text: string): ImapDateTime | null {
  const m = /^( ?\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const day = Number(m[1].trim());
  const month = monthNumber(m[2]);
  const year = Number(m[3]);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  const [zh, zm] = [Number(m[8]), Number(m[9])];
  if (month === 0 || !validDay(year, month, day) || hour > 23 || minute > 59 || second > 60 || zm > 59) return null;
  const offsetMinutes = (m[7] === '-' ? -1 : 1) * (zh * 60 + zm);
  const utc = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59)) - offsetMinutes * 60_000;
  return { date: new Date(utc), offsetMinutes };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** date-time without its quotes, in the given zone (UTC by default). */
export function formatDateTime(date: Date, offsetMinutes = 0): string {
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const abs = Math.abs(offsetMinutes);
  const zone = `${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
  return (
    `${pad(local.getUTCDate())}-${MONTHS[local.getUTCMonth()]}-${pad(local.getUTCFullYear(), 4)} ` +
    `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())} ${zone}`
  );
}
