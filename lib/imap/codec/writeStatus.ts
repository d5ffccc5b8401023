/** Status responses (RFC 9051 §7.1): tagged and untagged OK/NO/BAD, BYE, PREAUTH, and continuations. */
import { formatResponseCode, type ResponseCode } from './responseCodes.ts';

export type TaggedStatus = 'OK' | 'NO' | 'BAD';
export type UntaggedStatus = TaggedStatus | 'BYE' | 'PREAUTH';

/** Response text is one line (a CR or LF would start a response the server never meant). */
function lineText(text: string): string {
  const clean = text.replace(/[\r\n\0]+/g, ' ').trim();
  return clean === '' ? 'done' : clean;
}

function statusLine(prefix: string, status: string, text: string, code?: ResponseCode): Buffer {
  const codeText = code ? `[${formatResponseCode(code).replace(/[\r\n\]]/g, ' ')}] ` : '';
  return Buffer.from(`${prefix} ${status} ${codeText}${lineText(text)}\r\n`, 'utf8');
}

/** `tag OK [code] text` */
export function tagged(tag: string, status: TaggedStatus, text: string, code?: ResponseCode): Buffer {
  return statusLine(tag, status, text, code);
}

/** `* OK [code] text`, `* BYE ...`, `* PREAUTH ...` */
export function untagged(status: UntaggedStatus, text: string, code?: ResponseCode): Buffer {
  return statusLine('*', status, text, code);
}

/** `+ text`: go on with the literal, or IDLE's "idling". */
export function continuation(text = 'go ahead'): Buffer {
  return Buffer.from(`+ ${lineText(text)}\r\n`, 'utf8');
}

/** A SASL challenge: `+ base64` (`+ ` alone for an empty one, RFC 9051 §6.2.2). */
export function continuationData(challenge: Buffer): Buffer {
  return Buffer.from(`+ ${challenge.toString('base64')}\r\n`, 'latin1');
}
