/**
 * Outlook's POX autodiscover ([MS-OXDSCLI]): the client POSTs a request naming the address at
 * https://autodiscover.<domain>/autodiscover/autodiscover.xml and gets back the IMAP, POP3 and SMTP settings
 * ("Outlook" response schema, AccountType email, Action settings), or an Error response.
 */
import { CLIENT_SERVICES, type ClientSetupSite } from './services.ts';
import { element, escapeXml, unescapeXml } from './xml.ts';

export const AUTODISCOVER_PATH = '/autodiscover/autodiscover.xml';
const RESPONSE_NS = 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006';
export const OUTLOOK_SCHEMA = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a';

export interface AutodiscoverRequest {
  readonly emailAddress?: string;
  readonly acceptableSchema?: string;
}

/** The text of the first `<name>` element, whatever its prefix; the request is small and flat. */
function elementText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<(?:[\\w.-]+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${name}\\s*>`).exec(xml);
  return match ? unescapeXml(match[1]).trim() : undefined;
}

export function parseAutodiscoverRequest(xml: string): AutodiscoverRequest {
  return {
    emailAddress: elementText(xml, 'EMailAddress'),
    acceptableSchema: elementText(xml, 'AcceptableResponseSchema'),
  };
}

/** The settings for `address`, or an error response when the request is not one we can answer. */
export function autodiscoverXml(site: ClientSetupSite, request: AutodiscoverRequest, now = new Date()): string {
  const address = request.emailAddress ?? '';
  const at = address.lastIndexOf('@');
  const ours = at > 0 && address.slice(at + 1).toLowerCase() === site.domain;
  const outlook = request.acceptableSchema === undefined || request.acceptableSchema === OUTLOOK_SCHEMA;
  if (!ours || !outlook) return autodiscoverError(now);
  const protocols = CLIENT_SERVICES.map((s) =>
    [
      '      <Protocol>',
      `        ${element('Type', s.protocol.toUpperCase())}`,
      `        ${element('Server', site.host)}`,
      `        ${element('Port', s.port)}`,
      `        ${element('LoginName', address)}`,
      `        ${element('DomainRequired', 'off')}`,
      `        ${element('SPA', 'off')}`,
      `        ${element('SSL', 'on')}`,
      // [MS-OXDSCLI] 2.2.4.1.1.2.10: SSL is TLS from the start, TLS is STARTTLS.
      `        ${element('Encryption', s.security === 'tls' ? 'SSL' : 'TLS')}`,
      `        ${element('AuthRequired', 'on')}`,
      '      </Protocol>',
    ].join('\n'),
  );
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Autodiscover xmlns="${RESPONSE_NS}">`,
    `  <Response xmlns="${OUTLOOK_SCHEMA}">`,
    '    <Account>',
    `      ${element('AccountType', 'email')}`,
    `      ${element('Action', 'settings')}`,
    ...protocols,
    '    </Account>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
}

/** Error 600 "Invalid Request": an address of another domain, none at all, or a schema other than Outlook's. */
function autodiscoverError(now: Date): string {
  const time = now.toISOString().slice(11, 19);
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Autodiscover xmlns="${RESPONSE_NS}">`,
    '  <Response>',
    `    <Error Time="${escapeXml(time)}" Id="0">`,
    `      ${element('ErrorCode', 600)}`,
    `      ${element('Message', 'Invalid Request')}`,
    '      <DebugData />',
    '    </Error>',
    '  </Response>',
    '</Autodiscover>',
    '',
  ].join('\n');
}
