/**
 * The mail services a client is told about, in the order we prefer them: implicit TLS first (RFC 8314 §3),
 * IMAP before POP3. SRV records, Thunderbird's autoconfig and Outlook's autodiscover all read this one list.
 */
export type ServiceProtocol = 'imap' | 'pop3' | 'smtp';
/** `tls`: TLS from the first byte (RFC 8314 implicit TLS); `starttls`: plaintext, then STARTTLS/STLS. */
export type ServiceSecurity = 'tls' | 'starttls';

export interface ClientService {
  readonly protocol: ServiceProtocol;
  readonly port: number;
  readonly security: ServiceSecurity;
  /** RFC 6186 / RFC 8314 §5.1 service label of its SRV record. */
  readonly srvLabel: string;
  /** SRV priority: lower is preferred; RFC 6186 §3.4 compares them across IMAP and POP3 too. */
  readonly srvPriority: number;
}

export const CLIENT_SERVICES: readonly ClientService[] = [
  { protocol: 'imap', port: 993, security: 'tls', srvLabel: '_imaps._tcp', srvPriority: 0 },
  { protocol: 'imap', port: 143, security: 'starttls', srvLabel: '_imap._tcp', srvPriority: 10 },
  { protocol: 'pop3', port: 995, security: 'tls', srvLabel: '_pop3s._tcp', srvPriority: 20 },
  { protocol: 'pop3', port: 110, security: 'starttls', srvLabel: '_pop3._tcp', srvPriority: 30 },
  { protocol: 'smtp', port: 465, security: 'tls', srvLabel: '_submissions._tcp', srvPriority: 0 },
  { protocol: 'smtp', port: 587, security: 'starttls', srvLabel: '_submission._tcp', srvPriority: 10 },
];

/** What a client needs to know to set up an account: the domain, and the one host every service runs on. */
export interface ClientSetupSite {
  /** The mail domain (addresses are user@domain), ASCII, lower case, no trailing dot. */
  readonly domain: string;
  /** The gateway's host name (MX target, IMAP/POP3/submission server, TLS certificate name). */
  readonly host: string;
}
