/**
 * Whether a message's header holds 8-bit octets, read chunk by chunk as an APPEND streams in (RFC 6855 §4:
 * a UTF8=ACCEPT server refuses such a message from a client that has not enabled UTF-8). The scan stops
 * at the blank line that ends the header, so a large body costs nothing.
 */
export class HeaderEightBitScan {
  /** An octet above 0x7f was seen before the header ended. */
  found = false;
  private ended = false;
  private atLineStart = true;

  write(chunk: Buffer): void {
    for (let i = 0; i < chunk.length && !this.ended; i++) {
      const octet = chunk[i];
      if (octet >= 0x80) {
        this.found = true;
        this.ended = true;
      } else if (octet === 0x0a) {
        // LF at the start of a line (after an optional CR) is the blank line.
        if (this.atLineStart) this.ended = true;
        this.atLineStart = true;
      } else if (octet !== 0x0d) this.atLineStart = false;
    }
  }

  static of(message: Buffer): boolean {
    const scan = new HeaderEightBitScan();
    scan.write(message);
    return scan.found;
  }
}
