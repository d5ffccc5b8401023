/**
 * The client-setup documents, read back by parsers we did not write: the MTA-STS policy against RFC 8461's
 * grammar, Thunderbird's autoconfig and Outlook's autodiscover through expat (python's ElementTree).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoconfigXml } from '../../lib/clientSetup/autoconfig.ts';
import { autodiscoverXml, OUTLOOK_SCHEMA, parseAutodiscoverRequest } from '../../lib/clientSetup/autodiscover.ts';
import { MAX_MTA_STS_MAX_AGE, mtaStsId, mtaStsPolicyText, mtaStsRecordText } from '../../lib/clientSetup/mtaSts.ts';
import { child, childrenNamed, parseXml, type XmlElement } from '../support/pythonParsers.ts';

const site = { domain: 'example.com', host: 'mail.example.com' };
const policy = { mode: 'enforce', mx: ['mail.example.com'], maxAgeSeconds: 604800 } as const;

/** RFC 8461 §3.2's ABNF, line by line: sts-policy-field = key ":" *WSP value, each ending in CRLF. */
const POLICY_FIELD = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31}):[ \t]*([\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)$/;

describe('MTA-STS policy (RFC 8461)', () => {
  it('RFC 8461 §3.2: fields are key: value lines ending in CRLF, version STSv1 first, mode, mx, max_age', () => {
    const text = mtaStsPolicyText(policy);
    assert.ok(text.endsWith('\r\n'));
    const lines = text.slice(0, -2).split('\r\n');
    assert.ok(
      lines.every((l) => !l.includes('\n') && !l.includes('\r')),
      'no bare LF or CR',
    );
    const fields = lines.map((l) => {
      const m = POLICY_FIELD.exec(l);
      assert.ok(m, `field syntax: ${JSON.stringify(l)}`);
      return [m[1], m[2]] as const;
    });
    assert.deepEqual(fields, [
      ['version', 'STSv1'],
      ['mode', 'enforce'],
      ['mx', 'mail.example.com'],
      ['max_age', '604800'],
    ]);
  });

  it('one mx line per host; max_age above RFC 8461 §3.2 maximum (31557600) is refused', () => {
    const text = mtaStsPolicyText({ ...policy, mx: ['a.example.com', 'b.example.com'] });
    assert.deepEqual(text.match(/^mx: .*$/gm)?.length, 2);
    assert.doesNotThrow(() => mtaStsPolicyText({ ...policy, maxAgeSeconds: MAX_MTA_STS_MAX_AGE }));
    assert.throws(() => mtaStsPolicyText({ ...policy, maxAgeSeconds: MAX_MTA_STS_MAX_AGE + 1 }), RangeError);
    assert.throws(() => mtaStsPolicyText({ ...policy, maxAgeSeconds: 1.5 }), RangeError);
  });

  it('RFC 8461 §3.1: the TXT record is v=STSv1; id=<1*32 alphanumerics>, and the id changes with the policy', () => {
    assert.match(mtaStsRecordText(policy), /^v=STSv1; id=[A-Za-z0-9]{1,32}$/);
    assert.equal(mtaStsId(policy), mtaStsId({ ...policy }));
    assert.notEqual(mtaStsId(policy), mtaStsId({ ...policy, mode: 'testing' }));
    assert.notEqual(mtaStsId(policy), mtaStsId({ ...policy, mx: ['mx.example.com'] }));
  });
});

const text = (e: XmlElement, tag: string) => child(e, tag).text;

describe('Thunderbird autoconfig (config-v1.1.xml)', () => {
  const provider = child(parseXml(autoconfigXml(site)), 'emailProvider');

  it('is a clientConfig 1.1 document for the domain', () => {
    const root = parseXml(autoconfigXml(site));
    assert.equal(root.tag, 'clientConfig');
    assert.equal(root.attrib.version, '1.1');
    assert.equal(provider.attrib.id, 'example.com');
    assert.equal(text(provider, 'domain'), 'example.com');
  });

  it('lists IMAP, POP3 and SMTP on the mail host, implicit TLS before STARTTLS, the address as user name', () => {
    const servers = [...childrenNamed(provider, 'incomingServer'), ...childrenNamed(provider, 'outgoingServer')].map(
      (s) => `${s.attrib.type} ${text(s, 'hostname')}:${text(s, 'port')} ${text(s, 'socketType')}`,
    );
    assert.deepEqual(servers, [
      'imap mail.example.com:993 SSL',
      'imap mail.example.com:143 STARTTLS',
      'pop3 mail.example.com:995 SSL',
      'pop3 mail.example.com:110 STARTTLS',
      'smtp mail.example.com:465 SSL',
      'smtp mail.example.com:587 STARTTLS',
    ]);
    for (const s of [...childrenNamed(provider, 'incomingServer'), ...childrenNamed(provider, 'outgoingServer')]) {
      assert.equal(text(s, 'username'), '%EMAILADDRESS%');
      assert.equal(text(s, 'authentication'), 'password-cleartext');
    }
  });

  it('escapes what it puts in the document', () => {
    const root = parseXml(autoconfigXml({ domain: 'a&b<c>.example', host: 'mail."x".example' }));
    assert.equal(child(root, 'emailProvider').attrib.id, 'a&b<c>.example');
  });
});

const AD = '{http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006}';
const OL = `{${OUTLOOK_SCHEMA}}`;
const request = (address: string, schema = OUTLOOK_SCHEMA) =>
  `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>${address}</EMailAddress>
    <AcceptableResponseSchema>${schema}</AcceptableResponseSchema>
  </Request>
</Autodiscover>`;

describe('Outlook autodiscover (MS-OXDSCLI POX)', () => {
  it('reads the address and schema of a request, entities decoded', () => {
    assert.deepEqual(parseAutodiscoverRequest(request('o&#39;neil&amp;co@example.com')), {
      emailAddress: "o'neil&co@example.com",
      acceptableSchema: OUTLOOK_SCHEMA,
    });
    assert.deepEqual(parseAutodiscoverRequest('<a:EMailAddress>x@example.com</a:EMailAddress>'), {
      emailAddress: 'x@example.com',
      acceptableSchema: undefined,
    });
  });

  it('answers an address of the domain with IMAP, POP3 and SMTP settings (Encryption SSL = implicit TLS, TLS = STARTTLS)', () => {
    const xml = autodiscoverXml(site, parseAutodiscoverRequest(request('Alice@Example.com')));
    const root = parseXml(xml);
    assert.equal(root.tag, `${AD}Autodiscover`);
    const account = child(child(root, `${OL}Response`), `${OL}Account`);
    assert.equal(text(account, `${OL}AccountType`), 'email');
    assert.equal(text(account, `${OL}Action`), 'settings');
    const protocols = childrenNamed(account, `${OL}Protocol`).map(
      (p) =>
        `${text(p, `${OL}Type`)} ${text(p, `${OL}Server`)}:${text(p, `${OL}Port`)} ${text(p, `${OL}Encryption`)} ${text(p, `${OL}LoginName`)}`,
    );
    assert.deepEqual(protocols, [
      'IMAP mail.example.com:993 SSL Alice@Example.com',
      'IMAP mail.example.com:143 TLS Alice@Example.com',
      'POP3 mail.example.com:995 SSL Alice@Example.com',
      'POP3 mail.example.com:110 TLS Alice@Example.com',
      'SMTP mail.example.com:465 SSL Alice@Example.com',
      'SMTP mail.example.com:587 TLS Alice@Example.com',
    ]);
    for (const p of childrenNamed(account, `${OL}Protocol`)) {
      assert.equal(text(p, `${OL}AuthRequired`), 'on');
      assert.equal(text(p, `${OL}SPA`), 'off');
    }
  });

  it('answers error 600 for another domain, no address, or the mobilesync schema', () => {
    for (const body of [
      request('bob@other.example'),
      '<Autodiscover/>',
      request('bob@example.com', 'http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006'),
    ]) {
      const root = parseXml(autodiscoverXml(site, parseAutodiscoverRequest(body)));
      const error = child(child(root, `${AD}Response`), `${AD}Error`);
      assert.equal(text(error, `${AD}ErrorCode`), '600');
    }
  });
});
