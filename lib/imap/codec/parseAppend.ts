/**
 * APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502: several messages), BINARY literal8 (RFC 3516) and
 * the UTF8 form (RFC 6855 §4: `UTF8 (~{n})`). Message octets are usually streamed by the reader; they
 * arrive here as `streamed` placeholders.
 */
import type { AppendCommand, AppendMessage, MessageData } from './ast.ts';
import { Args, CommandParseError, type ParseOptions } from './cursor.ts';
import { type ImapDateTime, parseDateTime } from './dates.ts';
import type { Token } from './tokens.ts';

interface PendingOptions {
  flags?: string[];
  internalDate?: ImapDateTime;
}

function messageData(token: Token, what: string): { data: MessageData; binary: boolean } {
  if (token.type === 'streamed')
    return { data: { kind: 'streamed', seq: token.seq, size: token.size }, binary: token.binary };
  if (token.type === 'string' && token.form !== 'quoted') {
    return { data: { kind: 'inline', bytes: token.value }, binary: token.form === 'literal8' };
  }
  throw new CommandParseError(`${what}: expected a literal`);
}

/** Reads append-opts into `pending`; returns false at a token that is not an option. */
function readOption(args: Args, pending: PendingOptions): boolean {
  const t = args.peek();
  if (t?.type === 'list' && pending.flags === undefined && pending.internalDate === undefined) {
    pending.flags = args.flagList();
    return true;
  }
  if (t?.type === 'string' && t.form === 'quoted' && pending.internalDate === undefined) {
    args.next('date-time');
    const parsed = parseDateTime(t.value.toString('latin1'));
    if (!parsed) throw new CommandParseError('invalid date-time');
    pending.internalDate = parsed;
    return true;
  }
  return false;
}

function readMessage(args: Args, pending: PendingOptions): AppendMessage {
  let utf8 = false;
  let found: { data: MessageData; binary: boolean };
  if (args.accept('UTF8')) {
    const inner = args.list('UTF8 message');
    found = messageData(inner.next('UTF8 message'), 'UTF8 message');
    inner.end();
    if (!found.binary) throw new CommandParseError('the UTF8 form takes a literal8');
    utf8 = true;
  } else found = messageData(args.next('message literal'), 'message');
  return {
    flags: pending.flags ?? [],
    ...(pending.internalDate ? { internalDate: pending.internalDate } : {}),
    binary: found.binary,
    utf8,
    data: found.data,
  };
}

export function parseAppend(tag: string, args: Args): AppendCommand {
  const mailbox = args.mailbox();
  const messages: AppendMessage[] = [];
  while (!args.done) {
    const pending: PendingOptions = {};
    while (readOption(args, pending));
    messages.push(readMessage(args, pending));
  }
  if (messages.length === 0) throw new CommandParseError('APPEND needs a message');
  return { type: 'APPEND', tag, mailbox, messages };
}

/** What is known of the message whose literal is starting (from the reader's `literal` event). */
export interface AppendHead {
  readonly mailbox: string;
  /** 0 for the first message of a MULTIAPPEND. */
  readonly index: number;
  readonly flags: readonly string[];
  readonly internalDate?: ImapDateTime;
  readonly utf8: boolean;
}

/**
 * Parses the arguments before an APPEND message literal, so the session can check the mailbox (and answer
 * `NO [TRYCREATE]` instead of `+`) and knows the flags before the octets arrive.
 */
export function parseAppendHead(args: readonly Token[], depth: number, opts: ParseOptions): AppendHead {
  const last = args[args.length - 1];
  const utf8 = depth === 1 && last?.type === 'atom' && last.value.toUpperCase() === 'UTF8';
  if (depth > (utf8 ? 1 : 0)) throw new CommandParseError('misplaced literal in APPEND');
  const cursor = new Args(utf8 ? args.slice(0, -1) : args, opts);
  const mailbox = cursor.mailbox();
  let index = 0;
  let pending: PendingOptions = {};
  while (!cursor.done) {
    if (readOption(cursor, pending)) continue;
    readMessage(cursor, pending);
    index++;
    pending = {};
  }
  return {
    mailbox,
    index,
    flags: pending.flags ?? [],
    ...(pending.internalDate ? { internalDate: pending.internalDate } : {}),
    utf8,
  };
}
