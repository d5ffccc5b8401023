/**
 * Thunderbird's autoconfiguration file (config-v1.1.xml, the "clientConfig" format also read by K-9/Thunderbird
 * for Android, Evolution and others), served at https://autoconfig.<domain>/mail/config-v1.1.xml and
 * https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml.
 */
import { CLIENT_SERVICES, type ClientSetupSite, type ServiceSecurity } from './services.ts';
import { element, escapeXml } from './xml.ts';

export const AUTOCONFIG_PATHS: readonly string[] = [
  '/mail/config-v1.1.xml',
  '/.well-known/autoconfig/mail/config-v1.1.xml',
];

const SOCKET_TYPE: Readonly<Record<ServiceSecurity, string>> = { tls: 'SSL', starttls: 'STARTTLS' };

export function autoconfigXml(site: ClientSetupSite): string {
  const servers = CLIENT_SERVICES.map((s) => {
    const tag = s.protocol === 'smtp' ? 'outgoingServer' : 'incomingServer';
    return [
      `    <${tag} type="${s.protocol}">`,
      `      ${element('hostname', site.host)}`,
      `      ${element('port', s.port)}`,
      `      ${element('socketType', SOCKET_TYPE[s.security])}`,
      // Postern takes PLAIN and LOGIN over TLS only; the address is the user name.
      `      ${element('authentication', 'password-cleartext')}`,
      `      ${element('username', '%EMAILADDRESS%')}`,
      `    </${tag}>`,
    ].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${escapeXml(site.domain)}">`,
    `    ${element('domain', site.domain)}`,
    `    ${element('displayName', site.domain)}`,
    `    ${element('displayShortName', site.domain)}`,
    ...servers,
    '  </emailProvider>',
    '</clientConfig>',
    '',
  ].join('\n');
}
