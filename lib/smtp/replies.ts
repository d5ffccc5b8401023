/**
 * Every reply the MX side chooses itself, as data: code, enhanced status code (RFC 3463, advertised with
 * ENHANCEDSTATUSCODES, RFC 2034) and text. Replies that smtp-server makes on its own (syntax errors,
 * sequence errors, EHLO) keep the library's wording and enhanced codes.
 */
export interface Reply {
  readonly code: number;
  readonly enhanced: string;
  readonly text: string;
}

const r = (code: number, enhanced: string, text: string): Reply => ({ code, enhanced, text });

export const REPLIES = {
  // RCPT TO
  relayDenied: r(554, '5.7.1', 'Relay access denied'),
  unknownUser: r(550, '5.1.1', 'No such user here'),
  badRecipientSyntax: r(501, '5.1.3', 'Bad recipient address syntax'),
  mailboxFull: r(452, '4.2.2', 'Mailbox full, try again later'),
  tooManyRecipients: r(452, '4.5.3', 'Too many recipients'),
  badSrsAddress: r(550, '5.1.1', 'No such user here (invalid or expired SRS address)'),
  forwardingUnsupported: r(550, '5.3.0', 'Forwarding to remote recipients is not supported yet'),
  utf8Required: r(553, '5.6.7', 'Non-ASCII address requires SMTPUTF8 (RFC 6531)'),
  // DATA
  messageTooBig: r(552, '5.3.4', 'Message size exceeds fixed maximum message size'),
  mailLoop: r(554, '5.4.6', 'Too many Received headers: mail loop detected'),
  bareLineEnding: r(
    550,
    '5.6.0',
    'Message refused: bare CR or LF in message text (RFC 5321 §2.3.8); lines must end with CRLF',
  ),
  nulInData: r(550, '5.6.0', 'Message refused: NUL character in message text'),
  lineTooLong: r(500, '5.5.2', 'Line too long (RFC 5321 §4.5.3.1.6)'),
  dmarcReject: r(550, '5.7.1', 'Message rejected by the DMARC policy of the author domain'),
  virus: r(554, '5.7.1', 'Message rejected: virus found'),
  spam: r(550, '5.7.1', 'Message rejected as spam'),
  spamNotForwarded: r(550, '5.7.1', 'Message looks like spam: not forwarded'),
  // submission (587, 465)
  authRequired: r(530, '5.7.0', 'Authentication required'),
  encryptionRequired: r(538, '5.7.11', 'Encryption required for requested authentication mechanism'),
  authFailed: r(535, '5.7.8', 'Authentication credentials invalid'),
  // RFC 4954 §6: 454 4.7.0 temporary authentication failure (throttled, or the directory did not answer)
  authTemporary: r(454, '4.7.0', 'Temporary authentication failure, try again later'),
  senderNotOwned: r(553, '5.7.1', "Sender address is not one of the authenticated account's addresses"),
  fromNotOwned: r(553, '5.7.1', "From header address is not one of the authenticated account's addresses"),
  fromMissing: r(550, '5.6.0', 'Message must have exactly one From field (RFC 5322 §3.6)'),
  headerTooBig: r(552, '5.3.4', 'Message header block too large'),
  messageRateExceeded: r(451, '4.7.1', 'Too many messages sent in the last hour, try again later'),
  remoteUnavailable: r(451, '4.3.2', 'Delivery to remote domains is not available on this server yet'),
  // any step
  temporaryFailure: r(451, '4.3.0', 'Temporary local problem, please try again later'),
  // RFC 3463 §3.4: X.3.1 mail system full (here: memory for message text in flight)
  busy: r(451, '4.3.1', 'Insufficient system resources, please try again later'),
  // session
  tooManyConnections: r(421, '4.7.0', 'Too many connections from your address, try again later'),
  listenerFull: r(421, '4.7.0', 'Too many connections, try again later'),
  // RFC 3463 §3.5: X.4.2 bad connection (the client is too slow: a line, the message text, the session)
  lineTimeout: r(421, '4.4.2', 'Command line not completed in time, closing connection'),
  dataTooSlow: r(421, '4.4.2', 'Message text arriving too slowly, closing connection'),
  sessionTimeout: r(421, '4.4.2', 'Session time limit reached, closing connection'),
  tooManyJunkCommands: r(421, '4.7.0', 'Too many commands without progress, closing connection'),
  tooManyErrors: r(421, '4.7.0', 'Too many errors, closing connection'),
  proxyRefused: r(554, '5.7.0', 'PROXY protocol header not accepted on this port'),
  shuttingDown: r(421, '4.3.2', 'Server shutting down, try again later'),
} as const satisfies Record<string, Reply>;

export type ReplyName = keyof typeof REPLIES;

/** `250 2.0.0 OK ...` for an accepted message. */
export function acceptedReply(id: string): Reply {
  return r(250, '2.0.0', `OK: message accepted as ${id}`);
}

/** The reply for a delivery that did not commit everywhere (lib/delivery's reasons). */
export function deliveryFailureReply(reason: 'quota' | 'temporary'): Reply {
  return reason === 'quota' ? REPLIES.mailboxFull : REPLIES.temporaryFailure;
}

/** The reply line without the code, as smtp-server wants it in an error message. */
export function replyText(reply: Reply): string {
  return `${reply.enhanced} ${reply.text}`;
}

/** The full reply line, CRLF-terminated (for sockets written directly, before smtp-server has them). */
export function replyLine(reply: Reply): string {
  return `${reply.code} ${replyText(reply)}\r\n`;
}

/** An error that smtp-server turns into this reply (`err.responseCode` + `err.message`). */
export class SmtpReplyError extends Error {
  readonly responseCode: number;
  constructor(readonly reply: Reply) {
    super(replyText(reply));
    this.responseCode = reply.code;
  }
}

/** Matches a reply text that already starts with an enhanced status code (so none is added again). */
export const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3}(?: |$)/;
