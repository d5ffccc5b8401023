import type { Duplex } from 'node:stream';

/**
 * Reads CRLF-terminated command lines off a socket for the hand-written line protocols (POP3, IMAP).
 *
 * - Pull model: `next()` resolves with the next line, so a session handles pipelined commands strictly in
 *   order and never sees line n+1 before it has answered line n.
 * - Bounded memory: a line longer than `maxLineLength` is not buffered; the reader keeps discarding until its
 *   end and then reports it as `overlong`. At most `maxQueuedBytes` of complete lines wait in the queue; past
 *   that the socket is paused (TCP backpressure reaches the client) until the session catches up.
 * - TLS upgrade (STLS / STARTTLS): `detach()` stops reading the plain socket and throws away everything that
 *   was read but not yet handled, so plaintext a client (or an attacker in the path) pipelined after the
 *   upgrade command is never taken as a command inside the TLS session (RFC 2595 §4 / RFC 3207 §4.2-style
 *   command injection). `attach()` then continues on the secure socket.
 *
 * A bare LF is accepted as a line end as well (the CR, if any, is stripped).
 */
export type LineEvent =
  /** One line without its terminator. */
  | { readonly kind: 'line'; readonly line: Buffer }
  /** A line longer than the limit; its bytes were discarded. `length` counts what was seen (without CRLF). */
  | { readonly kind: 'overlong'; readonly length: number };

export interface LineReaderOptions {
  /** Longest line kept, terminator excluded. Longer lines are discarded and reported as overlong. */
  readonly maxLineLength: number;
  /** Complete lines buffered before the socket is paused (default 64 KiB). */
  readonly maxQueuedBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const MAX_QUEUED_LINES = 1024;

export class LineReader {
  private source: Duplex | undefined;
  private readonly queue: LineEvent[] = [];
  private queuedBytes = 0;
  /** Kept bytes of the current, unfinished line: at most maxLineLength + 1; the rest is only counted. */
  private partial: Buffer[] = [];
  private keptLength = 0;
  /** Every byte of the current line seen so far, kept or not. */
  private lineLength = 0;
  private lastByte = -1;
  private ended = false;
  private waiter: ((ev: LineEvent | undefined) => void) | undefined;
  private readonly maxLineLength: number;
  private readonly maxQueuedBytes: number;

  constructor(socket: Duplex, opts: LineReaderOptions) {
    this.maxLineLength = opts.maxLineLength;
    this.maxQueuedBytes = opts.maxQueuedBytes ?? 64 * 1024;
    this.attach(socket);
  }

  /** The socket lines are currently read from. */
  get socket(): Duplex | undefined {
    return this.source;
  }

  /** Resolves with the next line, or undefined once the connection has ended and every line was handed out. */
  next(): Promise<LineEvent | undefined> {
    const ev = this.shift();
    if (ev) return Promise.resolve(ev);
    if (this.ended) return Promise.resolve(undefined);
    if (this.waiter) return Promise.reject(new Error('LineReader.next() called while a read is pending'));
    this.source?.resume();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /**
   * Stops reading the current socket (for a TLS upgrade) and drops every byte read but not yet handed out.
   * Returns how many bytes were dropped, so the caller can log an injection attempt.
   */
  detach(): number {
    const dropped = this.queuedBytes + this.lineLength + this.queue.filter((e) => e.kind === 'overlong').length;
    const src = this.source;
    if (src) {
      src.off('data', this.onData);
      src.off('end', this.onEnd);
      src.off('close', this.onEnd);
      src.off('error', this.onEnd);
      src.pause();
    }
    this.source = undefined;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.partial = [];
    this.keptLength = 0;
    this.lineLength = 0;
    this.lastByte = -1;
    return dropped;
  }

  /** Reads from `socket` from now on (after a TLS upgrade: the TLSSocket wrapping the old one). */
  attach(socket: Duplex): void {
    if (this.source) this.detach();
    this.source = socket;
    socket.on('data', this.onData);
    socket.once('end', this.onEnd);
    socket.once('close', this.onEnd);
    socket.once('error', this.onEnd);
    if (this.waiter) socket.resume();
    else socket.pause();
  }

  private shift(): LineEvent | undefined {
    const ev = this.queue.shift();
    if (ev?.kind === 'line') this.queuedBytes -= ev.line.length;
    return ev;
  }

  private push(ev: LineEvent): void {
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter(ev);
      return;
    }
    this.queue.push(ev);
    if (ev.kind === 'line') this.queuedBytes += ev.line.length;
  }

  private readonly onEnd = () => {
    if (this.ended) return;
    this.ended = true;
    const waiter = this.waiter;
    if (waiter && this.queue.length === 0) {
      this.waiter = undefined;
      waiter(undefined);
    }
  };

  private readonly onData = (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    let start = 0;
    while (start < buf.length) {
      const lf = buf.indexOf(LF, start);
      const end = lf === -1 ? buf.length : lf;
      const seg = end - start;
      if (seg > 0) {
        // One byte over the limit is kept, so that a CR right at the limit is still seen as part of CRLF.
        const room = this.maxLineLength + 1 - this.keptLength;
        if (room > 0) {
          const take = Math.min(seg, room);
          this.partial.push(buf.subarray(start, start + take));
          this.keptLength += take;
        }
        this.lineLength += seg;
        this.lastByte = buf[end - 1];
      }
      if (lf === -1) break;
      this.finishLine();
      start = lf + 1;
    }
    // Past the queue limit, stop reading until the session has handled what is there (next() resumes).
    if (this.queuedBytes >= this.maxQueuedBytes || this.queue.length >= MAX_QUEUED_LINES) this.source?.pause();
  };

  private finishLine(): void {
    const length = this.lineLength - (this.lastByte === CR ? 1 : 0);
    const kept = this.partial.length === 1 ? this.partial[0] : Buffer.concat(this.partial);
    this.partial = [];
    this.keptLength = 0;
    this.lineLength = 0;
    this.lastByte = -1;
    if (length > this.maxLineLength) {
      this.push({ kind: 'overlong', length });
      return;
    }
    // A copy: the chunk the line was cut from may be large.
    this.push({ kind: 'line', line: Buffer.from(kept.subarray(0, length)) });
  }
}
