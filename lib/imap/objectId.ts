/**
 * RFC 8474 OBJECTID for messages. EMAILID names the message's content: it is made from the blob key, which
 * every copy shares (COPY and MOVE keep it, §5.1), so it never changes for the life of the message. No
 * threading is kept, so THREADID is NIL (§5.2) and a SEARCH THREADID matches nothing.
 */
import { createHash } from 'node:crypto';
import type { MessageMeta } from '../core/ports.ts';

/** `M` and 24 base64url characters: an objectid (§3: 1 to 255 of ALPHA, DIGIT, `-`, `_`). */
export function emailId(meta: Pick<MessageMeta, 'blobKey'>): string {
  return `M${createHash('sha256').update(meta.blobKey).digest('base64url').slice(0, 24)}`;
}
