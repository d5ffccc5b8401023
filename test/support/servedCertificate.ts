/**
 * Which certificate a gateway listener serves: a raw client connects (implicit TLS, or STARTTLS/STLS after the
 * greeting) and keeps the connection, so a test can check later that it still answers.
 */
import type { TLSSocket } from 'node:tls';
import { RawClient } from '../protocol/pop3-support.ts';

export type TlsListener = 'smtp' | 'submission' | 'submissions' | 'imap' | 'imaps' | 'pop3' | 'pop3s';

export interface TlsConnection {
  /** SHA-256 fingerprint of the certificate the server presented. */
  readonly fingerprint: string;
  /** Sends a no-op command and resolves when it is answered positively (the session is still usable). */
  alive(): Promise<void>;
  close(): void;
}

const family = (listener: TlsListener) => listener.replace(/s$/, '').replace('submission', 'smtp');

export async function connectTls(port: number, listener: TlsListener): Promise<TlsConnection> {
  const implicit = listener.endsWith('s') && listener !== 'pop3' && listener !== 'smtp';
  const proto = family(listener);
  const client = await RawClient.connect(port, { tls: implicit });
  await smtpReply(client, proto); // the greeting
  if (!implicit) {
    const go = proto === 'imap' ? 'a0 STARTTLS' : proto === 'pop3' ? 'STLS' : 'STARTTLS';
    if (proto === 'smtp') {
      client.send('EHLO client.test\r\n');
      await smtpReply(client, proto);
    }
    client.send(`${go}\r\n`);
    const answer = await smtpReply(client, proto);
    if (!/^(220|\+OK|a0 OK)/.test(answer)) throw new Error(`${listener}: ${go} refused: ${answer}`);
    await client.startTls();
  }
  const fingerprint = (client.socket as TLSSocket).getPeerCertificate().fingerprint256;
  let n = 0;
  return {
    fingerprint,
    async alive() {
      const tag = `a${++n}`;
      const command = proto === 'imap' ? `${tag} NOOP` : proto === 'pop3' ? 'CAPA' : 'NOOP';
      client.send(`${command}\r\n`);
      // POP3 has no NOOP before login: CAPA, a multi-line answer
      const answer = proto === 'pop3' ? (await client.multi()).status : await smtpReply(client, proto);
      const ok = proto === 'imap' ? answer.startsWith(`${tag} OK`) : /^(250|\+OK)/.test(answer);
      if (!ok) throw new Error(`${listener}: ${command} answered ${answer}`);
    },
    close: () => client.destroy(),
  };
}

/** The last line of a reply: SMTP's final `250 `, IMAP's tagged line, POP3's status line. */
async function smtpReply(client: RawClient, proto: string): Promise<string> {
  for (;;) {
    const line = await client.line();
    if (proto === 'smtp' && /^\d{3}-/.test(line)) continue;
    if (proto === 'imap' && line.startsWith('* ') && !line.startsWith('* OK')) continue;
    return line;
  }
}
