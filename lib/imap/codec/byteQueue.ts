/** A FIFO of received chunks, read byte by byte or in slices, without concatenating them. */
export class ByteQueue {
  private readonly chunks: Buffer[] = [];
  private offset = 0;
  private total = 0;

  /** Octets waiting to be read. */
  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The next octet, removed, or -1 when empty. */
  shift(): number {
    const head = this.chunks[0];
    if (head === undefined) return -1;
    const byte = head[this.offset++];
    this.total--;
    if (this.offset === head.length) {
      this.chunks.shift();
      this.offset = 0;
    }
    return byte;
  }

  /** Up to `max` octets from the front, as a view of one received chunk (no copy). */
  take(max: number): Buffer {
    const head = this.chunks[0];
    if (head === undefined || max <= 0) return Buffer.alloc(0);
    const n = Math.min(max, head.length - this.offset);
    const out = head.subarray(this.offset, this.offset + n);
    this.offset += n;
    this.total -= n;
    if (this.offset === head.length) {
      this.chunks.shift();
      this.offset = 0;
    }
    return out;
  }

  /** Drops everything buffered (after STARTTLS, bytes sent before the handshake must not be obeyed). */
  clear(): number {
    const dropped = this.total;
    this.chunks.length = 0;
    this.offset = 0;
    this.total = 0;
    return dropped;
  }
}

/** A growable byte buffer for atoms, quoted strings and raw lines. */
export class ByteBuilder {
  private buf = Buffer.allocUnsafe(256);
  private len = 0;

  get length(): number {
    return this.len;
  }

  push(byte: number): void {
    if (this.len === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    this.buf[this.len++] = byte;
  }

  /** The collected bytes as a new Buffer; the builder is emptied. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return out;
  }

  reset(): void {
    this.len = 0;
  }
}
