/**
 * The mail domain's DNS in the synthesized template: nothing without a hosted zone (but the PTR commands),
 * and with one every record of lib/clientSetup/records.ts, the SES identity, and the HTTPS front.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mtaStsRecordText } from '../../lib/clientSetup/mtaSts.ts';
import { type Json, logicalIdOf, synth } from './synth.ts';

const zoneProps = { hostedZoneId: 'Z0123456789', zoneName: 'example.com' };
const plain = synth({ hostname: 'mail.example.com' });
const hosted = synth({ hostname: 'mail.example.com', hostedZone: zoneProps, mtaStsMode: 'enforce' });

const resourcesOf = (template: typeof hosted.template, type: string): Json[] =>
  Object.values(template.findResources(type));

/** name + type -> the record set (one per pair), values as CloudFormation has them. */
function recordSets(template: typeof hosted.template): Map<string, Json> {
  const sets = new Map<string, Json>();
  for (const r of resourcesOf(template, 'AWS::Route53::RecordSet')) {
    const key = `${typeof r.Properties.Name === 'string' ? r.Properties.Name : 'token'} ${r.Properties.Type}`;
    assert.ok(!sets.has(key) || key.startsWith('token'), `one record set for ${key}`);
    sets.set(key, r.Properties);
  }
  return sets;
}

describe('DNS without a hosted zone', () => {
  it('publishes nothing in Route 53 and builds no HTTPS front or SES identity', () => {
    for (const type of [
      'AWS::Route53::RecordSet',
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGatewayV2::DomainName',
      'AWS::CertificateManager::Certificate',
      'AWS::SES::EmailIdentity',
    ]) {
      assert.deepEqual(resourcesOf(plain.template, type), [], type);
    }
  });

  it('outputs the reverse-DNS (PTR) commands for each Elastic IP', () => {
    const output = plain.template.toJSON().Outputs.ReverseDnsCommands;
    const text = JSON.stringify(output.Value);
    for (const eip of plain.stack.loadBalancer.elasticIps) {
      assert.ok(text.includes(logicalIdOf(plain.stack, eip)), 'names the allocation of each EIP');
    }
    assert.match(text, /aws ec2 modify-address-attribute --allocation-id /);
    assert.match(text, /--domain-name mail\.example\.com/);
  });
});

describe('DNS with a hosted zone', () => {
  const sets = recordSets(hosted.template);
  const values = (name: string, type: string): Json[] => {
    const set = sets.get(`${name} ${type}`);
    assert.ok(set, `${name} ${type}`);
    assert.equal(set.HostedZoneId, zoneProps.hostedZoneId);
    return set.ResourceRecords;
  };

  it('MX on the gateway host, A on both Elastic IPs, no AAAA (the VPC and NLB are IPv4 only)', () => {
    assert.deepEqual(values('example.com.', 'MX'), ['10 mail.example.com.']);
    const eips = hosted.stack.loadBalancer.elasticIps.map((e) => ({
      'Fn::GetAtt': [logicalIdOf(hosted.stack, e), 'PublicIp'],
    }));
    assert.deepEqual(values('mail.example.com.', 'A'), eips);
    assert.ok(![...sets.keys()].some((k) => k.endsWith(' AAAA')));
  });

  it('SPF authorizes SES (the deliver transport), DMARC and TLS-RPT report to postmaster', () => {
    assert.deepEqual(values('example.com.', 'TXT'), ['"v=spf1 include:amazonses.com -all"']);
    assert.deepEqual(values('_dmarc.example.com.', 'TXT'), [
      '"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.com"',
    ]);
    assert.deepEqual(values('_smtp._tls.example.com.', 'TXT'), ['"v=TLSRPTv1; rua=mailto:postmaster@example.com"']);
  });

  it('RFC 8461 §3.1: the _mta-sts id is the one of the policy the clientconfig Lambda serves', () => {
    const fn = hosted.template.toJSON().Resources[logicalIdOf(hosted.stack, hosted.stack.dns!.front.fn)];
    const env = fn.Properties.Environment.Variables;
    assert.equal(env.POSTERN_MTA_STS_MODE, 'enforce');
    const served = mtaStsRecordText({
      mode: env.POSTERN_MTA_STS_MODE,
      mx: [env.POSTERN_HOSTNAME],
      maxAgeSeconds: Number(env.POSTERN_MTA_STS_MAX_AGE),
    });
    assert.deepEqual(values('_mta-sts.example.com.', 'TXT'), [`"${served}"`]);
  });

  it('SRV for IMAP, POP3 and submission, implicit TLS preferred (RFC 6186, RFC 8314 §5.1)', () => {
    const srv = Object.fromEntries(
      [...sets].filter(([k]) => k.endsWith(' SRV')).map(([k, v]) => [k.split(' ')[0], v.ResourceRecords]),
    );
    assert.deepEqual(srv, {
      '_imaps._tcp.example.com.': ['0 1 993 mail.example.com.'],
      '_imap._tcp.example.com.': ['10 1 143 mail.example.com.'],
      '_pop3s._tcp.example.com.': ['20 1 995 mail.example.com.'],
      '_pop3._tcp.example.com.': ['30 1 110 mail.example.com.'],
      '_submissions._tcp.example.com.': ['0 1 465 mail.example.com.'],
      '_submission._tcp.example.com.': ['10 1 587 mail.example.com.'],
    });
  });

  it("CAA: Let's Encrypt (gateway certificate) and Amazon (ACM), in one record set", () => {
    assert.deepEqual(values('example.com.', 'CAA'), [
      '0 issue "letsencrypt.org"',
      '0 issue "amazon.com"',
      '0 iodef "mailto:postmaster@example.com"',
    ]);
  });

  it('the SES identity of the domain publishes its three Easy DKIM CNAMEs in the zone', () => {
    const [identity] = resourcesOf(hosted.template, 'AWS::SES::EmailIdentity');
    assert.equal(identity.Properties.EmailIdentity, 'example.com');
    assert.equal(
      resourcesOf(hosted.template, 'AWS::Route53::RecordSet').filter((r) => r.Properties.Type === 'CNAME').length,
      3,
    );
  });

  it('the HTTPS front: one DNS-validated certificate, three custom domains aliased in the zone, no execute-api URL', () => {
    const [cert] = resourcesOf(hosted.template, 'AWS::CertificateManager::Certificate');
    const names = ['mta-sts.example.com', 'autoconfig.example.com', 'autodiscover.example.com'];
    assert.equal(cert.Properties.ValidationMethod, 'DNS');
    assert.deepEqual(
      cert.Properties.DomainValidationOptions.map((o: Json) => [o.DomainName, o.HostedZoneId]),
      names.map((n) => [n, zoneProps.hostedZoneId]),
    );
    const domains = resourcesOf(hosted.template, 'AWS::ApiGatewayV2::DomainName');
    assert.deepEqual(domains.map((d) => d.Properties.DomainName).sort(), [...names].sort());
    for (const d of domains) assert.equal(d.Properties.DomainNameConfigurations[0].SecurityPolicy, 'TLS_1_2');
    for (const n of names) {
      const alias = sets.get(`${n}. A`);
      assert.ok(alias?.AliasTarget, `${n} is an alias A record`);
    }
    const [api] = resourcesOf(hosted.template, 'AWS::ApiGatewayV2::Api');
    assert.equal(api.Properties.DisableExecuteApiEndpoint, true);
    const [stage] = resourcesOf(hosted.template, 'AWS::ApiGatewayV2::Stage');
    assert.ok(stage.Properties.DefaultRouteSettings.ThrottlingRateLimit > 0);
  });

  it('the clientconfig function may write its logs and nothing else; only the HTTP API may invoke it', () => {
    const fnId = logicalIdOf(hosted.stack, hosted.stack.dns!.front.fn);
    const roleId = hosted.template.toJSON().Resources[fnId].Properties.Role['Fn::GetAtt'][0];
    const policies = resourcesOf(hosted.template, 'AWS::IAM::Policy').filter((p) =>
      p.Properties.Roles.some((r: Json) => r.Ref === roleId),
    );
    // one statement: writing to its own log group
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const logGroupId = logicalIdOf(hosted.stack, hosted.stack.dns!.front.fn.logGroup);
    assert.deepEqual(statements, [
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
    ]);
    const role = hosted.template.toJSON().Resources[roleId];
    assert.equal(role.Properties.ManagedPolicyArns, undefined);
    const permissions = resourcesOf(hosted.template, 'AWS::Lambda::Permission').filter(
      (p) => p.Properties.FunctionName['Fn::GetAtt']?.[0] === fnId,
    );
    assert.ok(permissions.length > 0);
    for (const p of permissions) assert.equal(p.Properties.Principal, 'apigateway.amazonaws.com');
  });
});
