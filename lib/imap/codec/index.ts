/** The IMAP codec: command reader, parser and response writer, without I/O (see README.md). */
export type * from './ast.ts';
export { Args, CommandParseError, decodeMailboxBytes, normalizeInbox, type ParseOptions } from './cursor.ts';
export { formatDateTime, type ImapDate, type ImapDateTime, parseDate, parseDateTime } from './dates.ts';
export {
  astr,
  atom,
  concat,
  type LiteralStream,
  list,
  literal,
  mailboxValue,
  NIL,
  nstr,
  num,
  type Segment,
  SegmentWriter,
  str,
  streamed,
  type Value,
  type WriteOptions,
} from './encode.ts';
export { decodeModifiedUtf7, encodeModifiedUtf7 } from './mutf7.ts';
export { KNOWN_COMMANDS, type ParseResult, parseCommand } from './parse.ts';
export { type AppendHead, parseAppendHead } from './parseAppend.ts';
export { parseFetchItem, parseSection } from './parseFetch.ts';
export { MAX_SEARCH_DEPTH, SEARCH_CHARSETS } from './parseSearch.ts';
export {
  type CommandEvent,
  CommandReader,
  DEFAULT_READER_LIMITS,
  type LineEvent,
  type LiteralContext,
  type LiteralDataEvent,
  type LiteralEndEvent,
  type LiteralEvent,
  type ReaderErrorCode,
  type ReaderErrorEvent,
  type ReaderEvent,
  type ReaderLimits,
  type ReaderOptions,
  streamAppendMessages,
} from './reader.ts';
export { formatResponseCode, type ResponseCode, type SimpleResponseCode } from './responseCodes.ts';
export {
  formatSequenceSet,
  formatUidList,
  mergeRanges,
  type NumberRange,
  normalizeRanges,
  parseSequenceSet,
  type ResolveContext,
  type ResolvedSet,
  rangeNumbers,
  rangesContain,
  rangesCount,
  resolveSequenceSet,
  type SeqNumber,
  type SeqRange,
  type SequenceSet,
  sequenceSetText,
} from './sequenceSet.ts';
export type { AtomToken, ListToken, StreamedToken, StringToken, Token } from './tokens.ts';
export { bodyValue, envelopeValue } from './writeBody.ts';
export * from './writeData.ts';
export {
  type BodyData,
  type FetchResponseItem,
  fetchResponse,
  fetchResponseBuffer,
  formatSection,
} from './writeFetch.ts';
export {
  continuation,
  continuationData,
  type TaggedStatus,
  tagged,
  type UntaggedStatus,
  untagged,
} from './writeStatus.ts';
