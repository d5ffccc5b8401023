/**
 * FETCH and UID FETCH (RFC 9051 §6.4.5). FLAGS and UID come from the session's view; ENVELOPE,
 * BODYSTRUCTURE, sizes, dates, EMAILID/THREADID (RFC 8474 §5) and SAVEDATE (RFC 8514) from the stored
 * index item (no S3); body sections are streamed from the blob as ranged reads, never held whole, and
 * BINARY (RFC 3516) decodes them on the way (binary.ts). A non-PEEK body fetch sets \Seen in a read-write
 * mailbox first, and the response then carries the new FLAGS.
 */
import type { MessageMeta } from '../../core/ports.ts';
import { MessageGoneError } from '../backend.ts';
import { binaryPart, decodedSize, decodePart, UnknownCteError } from '../binary.ts';
import type { FetchItem, FetchResponseItem, PartialRange, Section } from '../codec/index.ts';
import { fetchResponse, tagged, vanished } from '../codec/index.ts';
import {
  type BodySource,
  dropResponse,
  LOOKAHEAD,
  type PreparedResponse,
  prepareResponse,
  writeResponse,
} from '../fetchStream.ts';
import { envelopeOf, structureOf } from '../messageInfo.ts';
import { emailId } from '../objectId.ts';
import { modseqNumber, vanishedSince } from '../qresync.ts';
import { filterHeader, MAX_FILTERED_HEADER, type OctetRange, sectionRange } from '../sections.ts';
import type { ImapSession } from '../session.ts';
import { command, SELECTED } from './types.ts';

type Item = FetchResponseItem<BodySource>;
type Data = Buffer | { readonly length: number; readonly source: BodySource };

/** Messages read from the index per storage call. */
const BATCH = 100;
const SUPPORTED = new Set([
  'UID',
  'FLAGS',
  'MODSEQ',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODYSTRUCTURE',
  'BODY',
  'EMAILID',
  'THREADID',
  'SAVEDATE',
]);
const BODY_ITEMS = new Set(['BODY[]', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT', 'BINARY', 'BINARY.SIZE']);

/** RFC 9051 §6.4.5: BODY[...] without PEEK, RFC822 and RFC822.TEXT set \Seen; so does BINARY (RFC 3516 §4.2). */
const setsSeen = (it: FetchItem): boolean =>
  ((it.type === 'BODY[]' || it.type === 'BINARY') && !it.peek) || it.type === 'RFC822' || it.type === 'RFC822.TEXT';

const needsMeta = (it: FetchItem): boolean => it.type !== 'UID' && it.type !== 'FLAGS' && it.type !== 'MODSEQ';

/** The section an RFC822* item stands for. */
function rfc822Section(type: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT'): Section {
  if (type === 'RFC822') return { part: [] };
  return { part: [], text: type === 'RFC822.HEADER' ? 'HEADER' : 'TEXT' };
}

async function sectionData(
  session: ImapSession,
  meta: MessageMeta,
  section: Section,
  partial?: { offset: number; length: number },
): Promise<Data> {
  let range = sectionRange(meta, section);
  if (!range) return Buffer.alloc(0);
  if (section.text === 'HEADER.FIELDS' || section.text === 'HEADER.FIELDS.NOT') {
    if (range.end - range.start > MAX_FILTERED_HEADER)
      range = { start: range.start, end: range.start + MAX_FILTERED_HEADER };
    const header = await readRange(session, meta, range);
    const filtered = filterHeader(header, section.fields ?? [], section.text === 'HEADER.FIELDS.NOT');
    return partial ? filtered.subarray(partial.offset, partial.offset + partial.length) : filtered;
  }
  if (partial) {
    const start = Math.min(range.end, range.start + partial.offset);
    range = { start, end: Math.min(range.end, start + partial.length) };
  }
  return { length: range.end - range.start, source: { meta, range } };
}

/** RFC 3516 §4.3 BINARY[part]<partial>: decoded octets, NIL for a part that does not exist. */
async function binaryData(
  session: ImapSession,
  meta: MessageMeta,
  numbers: readonly number[],
  partial?: PartialRange,
): Promise<{ data: Data | null; literal8: boolean }> {
  const part = binaryPart(meta, numbers);
  if (!part) return { data: null, literal8: false };
  const decoded = await decodePart(session, session.backend, meta, part);
  const start = Math.min(decoded.size, partial?.offset ?? 0);
  const length = Math.min(decoded.size - start, partial?.length ?? Number.POSITIVE_INFINITY);
  if (decoded.data) {
    const data = decoded.data.subarray(start, start + length);
    return { data, literal8: data.includes(0) };
  }
  const source = { meta, range: part.range, decoded: { part, skip: start } };
  return { data: { length, source }, literal8: decoded.nul };
}

/** Writes a response; false when the message's octets turned out to be gone (nothing of it was written). */
async function writeUnlessGone(session: ImapSession, response: PreparedResponse): Promise<boolean> {
  try {
    await writeResponse(session, response);
    return true;
  } catch (e) {
    if (e instanceof MessageGoneError) return false;
    throw e;
  }
}

async function readRange(session: ImapSession, meta: MessageMeta, range: OctetRange): Promise<Buffer> {
  if (range.end <= range.start) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of await session.backend.openMessage(meta, { start: range.start, end: range.end - 1 })) {
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

async function items(
  session: ImapSession,
  requested: readonly FetchItem[],
  uid: number,
  meta: MessageMeta | undefined,
  addUid: boolean,
  addFlags: boolean,
): Promise<Item[]> {
  const box = session.selected!;
  const out: Item[] = [];
  if (addUid) out.push({ item: 'UID', uid });
  for (const it of requested) {
    switch (it.type) {
      case 'UID':
        if (!addUid) out.push({ item: 'UID', uid });
        break;
      case 'FLAGS':
        out.push({ item: 'FLAGS', flags: box.flagsOf(uid) });
        break;
      case 'MODSEQ':
        break;
      case 'INTERNALDATE':
        out.push({ item: 'INTERNALDATE', date: new Date(meta!.internalDate) });
        break;
      case 'RFC822.SIZE':
        out.push({ item: 'RFC822.SIZE', size: meta!.size });
        break;
      case 'ENVELOPE':
        out.push({ item: 'ENVELOPE', envelope: envelopeOf(meta!) });
        break;
      case 'BODYSTRUCTURE':
      case 'BODY':
        out.push({ item: it.type, body: structureOf(meta!) });
        break;
      case 'BODY[]': {
        const data = await sectionData(session, meta!, it.section, it.partial);
        out.push({ item: 'BODY[]', section: it.section, origin: it.partial?.offset, data });
        break;
      }
      case 'RFC822':
      case 'RFC822.HEADER':
      case 'RFC822.TEXT':
        out.push({ item: it.type, data: await sectionData(session, meta!, rfc822Section(it.type)) });
        break;
      case 'BINARY': {
        const { data, literal8 } = await binaryData(session, meta!, it.part, it.partial);
        out.push({ item: 'BINARY', part: it.part, origin: it.partial?.offset, data, literal8 });
        break;
      }
      case 'BINARY.SIZE': {
        const part = binaryPart(meta!, it.part);
        const size = part ? await decodedSize(session, session.backend, meta!, part) : 0;
        out.push({ item: 'BINARY.SIZE', part: it.part, size });
        break;
      }
      case 'EMAILID':
        out.push({ item: 'EMAILID', id: emailId(meta!) });
        break;
      case 'THREADID':
        out.push({ item: 'THREADID', id: null });
        break;
      case 'SAVEDATE':
        // Items stored before save dates were kept: the internal date is when they were saved.
        out.push({ item: 'SAVEDATE', date: new Date(meta!.savedAt ?? meta!.internalDate) });
        break;
    }
  }
  if (addFlags) out.push({ item: 'FLAGS', flags: box.flagsOf(uid) });
  // RFC 7162 §3.1.4: MODSEQ when asked, and with every FLAGS once CONDSTORE is on.
  const flagsSent = addFlags || requested.some((it) => it.type === 'FLAGS');
  if (requested.some((it) => it.type === 'MODSEQ') || (session.condstore && flagsSent)) {
    out.push({ item: 'MODSEQ', modSeq: BigInt(box.modseqOf(uid)) });
  }
  return out;
}

/** \Seen on the messages a non-PEEK fetch reads; returns the UIDs whose flags changed. */
async function markSeen(session: ImapSession, uids: readonly number[]): Promise<Set<number>> {
  const box = session.selected!;
  const unseen = uids.filter((u) => !box.flagsOf(u).includes('\\Seen'));
  if (unseen.length === 0) return new Set();
  const result = await session.backend.mail.updateFlags(box.ref, unseen, 'add', ['\\Seen']);
  for (const u of result.updated) box.setFlags(u.uid, u.flags, u.modseq);
  return new Set(result.updated.map((u) => u.uid));
}

/** Messages the session shows that FETCH could not answer: index items gone, and UIDs whose blob was gone. */
interface Missing {
  items: number;
  readonly octets: number[];
}

/**
 * Writes every message's response in order, each prepared up to LOOKAHEAD ahead of the one being written
 * (fetchStream.ts). A message another session expunged meanwhile is left out and counted.
 */
async function streamAll(
  session: ImapSession,
  uids: readonly number[],
  withMeta: boolean,
  prepare: (uid: number, meta: MessageMeta | undefined) => Promise<PreparedResponse>,
): Promise<Missing> {
  const box = session.selected!;
  const missing: Missing = { items: 0, octets: [] };
  const ahead: { uid: number; response: Promise<PreparedResponse | undefined> }[] = [];
  const writeNext = async () => {
    const { uid, response } = ahead.shift()!;
    const next = await response;
    if (!next || !(await writeUnlessGone(session, next))) missing.octets.push(uid);
  };
  try {
    for (let i = 0; i < uids.length; i += BATCH) {
      const chunk = uids.slice(i, i + BATCH);
      const metas = withMeta ? await session.backend.mail.getMessages(box.ref, chunk) : [];
      const byUid = new Map(metas.map((m) => [m.uid, m] as const));
      for (const uid of chunk) {
        const meta = byUid.get(uid);
        if (withMeta && !meta) {
          missing.items++;
          continue;
        }
        const response = prepare(uid, meta).catch((e: unknown) => {
          if (e instanceof MessageGoneError) return undefined;
          throw e;
        });
        response.catch(() => {}); // answered when its turn comes
        ahead.push({ uid, response });
        if (ahead.length > LOOKAHEAD) await writeNext();
      }
    }
    while (ahead.length > 0) await writeNext();
  } catch (e) {
    for (const later of ahead)
      void later.response.then(
        (r) => r && dropResponse(r),
        () => {},
      );
    throw e;
  }
  return missing;
}

export default command({
  names: ['FETCH'],
  states: SELECTED,
  async run(session, cmd) {
    const box = session.selected!;
    const unsupported = cmd.items.find((it) => !SUPPORTED.has(it.type) && !BODY_ITEMS.has(it.type));
    if (unsupported) return session.fail(cmd.tag, 'BAD', `FETCH ${unsupported.type} is not supported`);
    // RFC 7162 §3.2.3: the VANISHED modifier without ENABLE QRESYNC first is BAD.
    if (cmd.vanished && !session.qresync) return session.fail(cmd.tag, 'BAD', 'VANISHED needs ENABLE QRESYNC first');
    const resolved = box.resolve(cmd.set, cmd.uid);
    if (resolved.outOfRange) return session.fail(cmd.tag, 'BAD', 'no such message');
    const since = cmd.changedSince;
    if (since !== undefined || cmd.items.some((it) => it.type === 'MODSEQ')) session.condstore = true;
    // RFC 7162 §3.1.4.1 CHANGEDSINCE: only messages changed after it; MODSEQ is then implied.
    const uids = since === undefined ? resolved.uids : resolved.uids.filter((u) => BigInt(box.modseqOf(u)) > since);
    const requested =
      since === undefined || cmd.items.some((it) => it.type === 'MODSEQ')
        ? cmd.items
        : [...cmd.items, { type: 'MODSEQ' } as const];
    // RFC 7162 §3.2.6: the set's UIDs expunged since CHANGEDSINCE, before any FETCH response.
    if (cmd.vanished && since !== undefined) {
      const gone = await vanishedSince(session.backend.mail, box, modseqNumber(since), box.uidRanges(cmd.set));
      session.send(vanished(gone, true));
    }
    const seen = !box.readOnly && requested.some(setsSeen) ? await markSeen(session, uids) : new Set<number>();
    const withMeta = requested.some(needsMeta);
    const flagsAsked = requested.some((it) => it.type === 'FLAGS');
    const opts = session.writeOptions;
    const prepare = async (uid: number, meta: MessageMeta | undefined) => {
      const list = await items(session, requested, uid, meta, cmd.uid, seen.has(uid) && !flagsAsked);
      return prepareResponse(session, fetchResponse(box.seqOf(uid), list, opts));
    };
    let missing: Missing;
    try {
      missing = await streamAll(session, uids, withMeta, prepare);
    } catch (e) {
      if (!(e instanceof UnknownCteError)) throw e;
      return session.fail(cmd.tag, 'NO', e.message, { code: 'UNKNOWN-CTE' });
    }
    if (missing.octets.length > 0 && (await session.backend.mail.getMessages(box.ref, missing.octets)).length > 0) {
      // an index item whose blob is gone: the store broke its own rule (never a dangling index item)
      session.log.error('imap fetch: message octets missing', { uids: missing.octets });
      return session.refuse(cmd.tag, 'message data is missing', { code: 'SERVERBUG' });
    }
    // RFC 2180 §4.1.2: the others' data and a tagged NO; no EXPUNGE may be sent now (RFC 9051 §7.5.1), so
    // RFC 5530 EXPUNGEISSUED says why. Not the client's fault: not counted as an error.
    const gone = missing.items + missing.octets.length;
    if (gone > 0) return session.refuse(cmd.tag, `${gone} of the messages were expunged`, { code: 'EXPUNGEISSUED' });
    session.send(tagged(cmd.tag, 'OK', `${cmd.uid ? 'UID FETCH' : 'FETCH'} completed`));
  },
});
