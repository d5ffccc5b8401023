import { multiline, ok, parseCount } from '../codec.ts';
import type { CommandSpec } from './types.ts';

/** The TRANSACTION-state commands of RFC 1939 §5 and §7. Message numbers resolve through session.message(). */
export const TRANSACTION_COMMANDS: CommandSpec[] = [
  {
    // RFC 1939 §5 STAT: "+OK nn mm", deleted messages not counted.
    name: 'STAT',
    states: ['TRANSACTION'],
    minArgs: 0,
    maxArgs: 0,
    usage: 'STAT',
    handler: (s) => {
      const { count, octets } = s.stat();
      s.send(ok(`${count} ${octets}`));
    },
  },
  {
    // RFC 1939 §5 LIST [msg]: sizes are the exact octets RETR sends before dot-stuffing.
    name: 'LIST',
    states: ['TRANSACTION'],
    minArgs: 0,
    maxArgs: 1,
    usage: 'LIST [msg]',
    handler: (s, args) => {
      if (args.length === 1) {
        const m = s.message(args[0]);
        if (m) s.send(ok(`${m.number} ${m.size}`));
        return;
      }
      const { count, octets } = s.stat();
      const lines = s.maildrop!.messages.filter((m) => !s.deleted.has(m.number)).map((m) => `${m.number} ${m.size}`);
      s.send(multiline(`${count} message(s) (${octets} octets)`, lines));
    },
  },
  {
    // RFC 1939 §5 RETR msg: the whole message, dot-stuffed, streamed from the store.
    name: 'RETR',
    states: ['TRANSACTION'],
    minArgs: 1,
    maxArgs: 1,
    usage: 'RETR msg',
    handler: async (s, args) => {
      const m = s.message(args[0]);
      if (m) await s.sendMessage(m);
    },
  },
  {
    // RFC 1939 §5 DELE msg: only marks; removal happens in the UPDATE state after QUIT.
    name: 'DELE',
    states: ['TRANSACTION'],
    minArgs: 1,
    maxArgs: 1,
    usage: 'DELE msg',
    handler: (s, args) => {
      const m = s.message(args[0]);
      if (!m) return;
      s.deleted.add(m.number);
      s.send(ok(`message ${m.number} deleted`));
    },
  },
  {
    name: 'NOOP',
    states: ['TRANSACTION'],
    minArgs: 0,
    maxArgs: 0,
    usage: 'NOOP',
    handler: (s) => s.send(ok()),
  },
  {
    // RFC 1939 §5 RSET: unmarks every message marked deleted.
    name: 'RSET',
    states: ['TRANSACTION'],
    minArgs: 0,
    maxArgs: 0,
    usage: 'RSET',
    handler: (s) => {
      s.deleted.clear();
      const { count, octets } = s.stat();
      s.send(ok(`maildrop has ${count} message(s) (${octets} octets)`));
    },
  },
  {
    // RFC 1939 §7 TOP msg n: header, blank line, then n lines of the body.
    name: 'TOP',
    states: ['TRANSACTION'],
    minArgs: 2,
    maxArgs: 2,
    usage: 'TOP msg n',
    handler: async (s, args) => {
      const lines = parseCount(args[1]);
      if (lines === undefined) return s.fail(`invalid line count ${JSON.stringify(args[1].slice(0, 20))}`);
      const m = s.message(args[0]);
      if (m) await s.sendMessage(m, lines);
    },
  },
  {
    // RFC 1939 §7 UIDL [msg]: unique-ids stable across sessions (uidValidity.uid of INBOX).
    name: 'UIDL',
    states: ['TRANSACTION'],
    minArgs: 0,
    maxArgs: 1,
    usage: 'UIDL [msg]',
    handler: (s, args) => {
      if (args.length === 1) {
        const m = s.message(args[0]);
        if (m) s.send(ok(`${m.number} ${m.uidl}`));
        return;
      }
      const lines = s.maildrop!.messages.filter((m) => !s.deleted.has(m.number)).map((m) => `${m.number} ${m.uidl}`);
      s.send(multiline('unique-id listing follows', lines));
    },
  },
];
