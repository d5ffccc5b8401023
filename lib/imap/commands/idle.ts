/**
 * IDLE (RFC 2177, RFC 9051 §6.3.13): `+ idling`, then the selected mailbox's news as it happens, until the
 * client's DONE. The notifier's events are hints: each one (or, without a notifier that crosses gateway
 * tasks, the poll timer) makes the session catch up from the store, so nothing depends on an event arriving.
 */
import { continuation, tagged } from '../codec/index.ts';
import { AUTHENTICATED, command } from './types.ts';

export default command({
  names: ['IDLE'],
  states: AUTHENTICATED,
  async run(session, cmd) {
    session.send(continuation('idling'));
    const stop = session.watchSelected();
    let line: Buffer | undefined;
    try {
      line = await session.readLine();
    } finally {
      await stop();
    }
    if (line === undefined) return;
    if (line.toString('latin1').trim().toUpperCase() !== 'DONE') {
      return session.fail(cmd.tag, 'BAD', 'expected DONE');
    }
    session.send(tagged(cmd.tag, 'OK', 'IDLE terminated'));
  },
});
