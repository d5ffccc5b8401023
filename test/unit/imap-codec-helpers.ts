/** Shared by the imap-codec-*.test.ts files: drive the reader over chunked input, parse one command. */
import assert from 'node:assert/strict';
import type { Command } from '../../lib/imap/codec/ast.ts';
import { parseCommand } from '../../lib/imap/codec/parse.ts';
import { CommandReader, type LiteralEvent, type ReaderEvent, type ReaderOptions } from '../../lib/imap/codec/reader.ts';

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Events with Buffers shown as latin1 text and each streamed literal's data merged into one event. */
export type Shown = Record<string, unknown>;

function show(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `<${value.toString('latin1')}>`;
  if (Array.isArray(value)) return value.map(show);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, show(v)]));
  }
  return value;
}

/** A deterministic PRNG (mulberry32), so random chunkings are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function chunk(input: Buffer, sizes: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; ) {
    const n = Math.max(1, sizes());
    out.push(input.subarray(i, i + n));
    i += n;
  }
  return out;
}

export interface RunOptions extends ReaderOptions {
  /** Answer to each synchronising literal (default: accept). */
  readonly decide?: (e: LiteralEvent) => boolean;
}

/** Feeds the chunks, answering synchronising literals, and returns every event (raw). */
export function runRaw(chunks: readonly Buffer[], opts: RunOptions = {}): ReaderEvent[] {
  const reader = new CommandReader(opts);
  const events: ReaderEvent[] = [];
  const drain = () => {
    for (let e = reader.next(); e !== null; e = reader.next()) {
      events.push(e);
      if (e.kind === 'literal' && e.synchronizing) {
        if ((opts.decide ?? (() => true))(e)) reader.accept();
        else reader.refuse();
      }
    }
  };
  for (const c of chunks) {
    reader.push(c);
    drain();
  }
  return events;
}

/** runRaw, with data events merged per literal so that different chunkings compare equal. */
export function run(chunks: readonly Buffer[], opts: RunOptions = {}): Shown[] {
  const out: Shown[] = [];
  for (const e of runRaw(chunks, opts)) {
    const last = out[out.length - 1];
    if (e.kind === 'literal-data' && last?.kind === 'literal-data' && last.seq === e.seq) {
      last.data = `${String(last.data).slice(0, -1)}${e.data.toString('latin1')}>`;
    } else out.push(show(e) as Shown);
  }
  return out;
}

/** The one command a line makes (reader, then parser); fails the test on any error. */
export function parseLine(line: string, utf8 = false): Command {
  const events = runRaw([Buffer.from(`${line}\r\n`, 'utf8')]).filter((e) => e.kind === 'command');
  assert.equal(events.length, 1, `one command from ${JSON.stringify(line)}`);
  const e = events[0];
  assert.ok(e.kind === 'command');
  const result = parseCommand(e, { utf8 });
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.command;
}

/** The parse error a line makes (the line as latin1, so it can hold any octet). */
export function parseFailure(line: string, utf8 = false): { status: string; message: string; code?: unknown } {
  const events = runRaw([b(`${line}\r\n`)]);
  const e = events.find((x) => x.kind === 'command');
  assert.ok(e && e.kind === 'command', `the reader accepts ${JSON.stringify(line)}: ${JSON.stringify(events)}`);
  const result = parseCommand(e, { utf8 });
  assert.ok(!result.ok, `${JSON.stringify(line)} should not parse`);
  return { status: result.status, message: result.message, ...(result.code ? { code: result.code } : {}) };
}
