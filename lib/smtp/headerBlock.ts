/**
 * The header block of a submitted message, collected as the text streams to S3 (the body is never held) and
 * read with mailparser's header parsing: the From mailboxes to check against the account, and whether Date and
 * Message-ID are there (RFC 6409 §8.2, §8.3: the MSA adds them when missing). mailparser (with html-to-text,
 * libmime's charset tables: ~12 MB of RSS) is imported at the first submission, not when the gateway starts.
 */
const END = Buffer.from('\r\n\r\n');

/** Collects the text up to and including the blank line that ends the header, at most `maxBytes`. */
export class HeaderBlockCollector {
  private readonly parts: Buffer[] = [];
  private bytes = 0;
  /** The blank line was seen. */
  ended = false;
  /** The header block is larger than maxBytes (the collection stopped). */
  overflow = false;

  constructor(private readonly maxBytes: number) {}

  write(chunk: Buffer): void {
    if (this.ended || this.overflow) return;
    // a message that starts with CRLF has an empty header
    if (this.bytes === 0 && chunk.length >= 2 && chunk[0] === 0x0d && chunk[1] === 0x0a) {
      this.ended = true;
      return;
    }
    // the blank line may straddle chunks: search from three bytes back
    const from = Math.max(0, this.bytes - 3);
    this.parts.push(chunk);
    this.bytes += chunk.length;
    const joined = Buffer.concat(this.parts);
    const end = joined.indexOf(END, from);
    if (end >= 0) {
      this.parts.splice(0, this.parts.length, joined.subarray(0, end + END.length));
      this.bytes = end + END.length;
      this.ended = true;
    } else this.parts.splice(0, this.parts.length, joined);
    if (this.bytes > this.maxBytes) {
      this.overflow = true;
      this.parts.length = 0;
    }
  }

  /** The header block (the whole text when it has no body). */
  get block(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export interface HeaderFacts {
  /** How many From fields there are (RFC 5322 §3.6: exactly one). */
  readonly fromFields: number;
  /** Every mailbox of the From field, groups flattened, as written. */
  readonly fromAddresses: readonly string[];
  readonly hasDate: boolean;
  readonly hasMessageId: boolean;
}

export async function readHeaderFacts(block: Buffer): Promise<HeaderFacts> {
  const { simpleParser } = await import('mailparser');
  const parsed = await simpleParser(Buffer.concat([block, Buffer.from('\r\n')]), {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
  });
  const count = (key: string) => parsed.headerLines.filter((l) => l.key === key).length;
  const from = Array.isArray(parsed.from) ? parsed.from : parsed.from ? [parsed.from] : [];
  const fromAddresses: string[] = [];
  for (const object of from) {
    for (const entry of object.value) {
      for (const mailbox of entry.group ?? [entry]) if (mailbox.address) fromAddresses.push(mailbox.address);
    }
  }
  return {
    fromFields: count('from'),
    fromAddresses,
    hasDate: count('date') > 0,
    hasMessageId: count('message-id') > 0,
  };
}
