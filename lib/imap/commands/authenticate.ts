/**
 * AUTHENTICATE (RFC 9051 §6.2.2) with the PLAIN mechanism (RFC 4616) and SASL-IR (RFC 4959): the initial
 * response on the command line, or an empty challenge and the response on the next line; `*` cancels.
 */
import { continuationData } from '../codec/index.ts';
import { command, NOT_AUTHENTICATED } from './types.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** RFC 4616 §2: authzid NUL authcid NUL passwd; an authzid other than the user is not supported. */
function decodePlain(bytes: Buffer): { username: string; password: string } | undefined {
  const fields = bytes.toString('utf8').split('\0');
  if (fields.length !== 3) return undefined;
  const [authzid, username, password] = fields;
  if (username === '' || (authzid !== '' && authzid !== username)) return undefined;
  return { username, password };
}

export default command({
  names: ['AUTHENTICATE'],
  states: NOT_AUTHENTICATED,
  async run(session, cmd) {
    if (cmd.mechanism !== 'PLAIN') return session.fail(cmd.tag, 'NO', 'unsupported mechanism; use PLAIN');
    if (!session.authAllowed) {
      return session.fail(cmd.tag, 'NO', 'use STARTTLS before AUTHENTICATE', { code: 'PRIVACYREQUIRED' });
    }
    let response = cmd.initialResponse;
    if (response === null) {
      session.send(continuationData(Buffer.alloc(0)));
      const line = await session.readLine();
      if (line === undefined) return;
      const text = line.toString('latin1').trim();
      if (text === '*') return session.fail(cmd.tag, 'BAD', 'authentication cancelled');
      if (!BASE64.test(text)) return session.fail(cmd.tag, 'BAD', 'invalid base64');
      response = Buffer.from(text, 'base64');
    }
    const plain = decodePlain(response);
    if (!plain) return session.fail(cmd.tag, 'BAD', 'malformed PLAIN response');
    await session.login(cmd.tag, plain.username, plain.password);
  },
});
