/**
 * lib/infra/certificates.ts: the TLS secret survives stack deletion and host name changes, and with a hosted
 * zone the ACME renewal runs daily and at deploy time with only the calls it makes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACME_DIRECTORIES, loadCertRenewalConfig } from '../../lib/core/config.ts';
import { grantsOf, type Json, logicalIdOf, synth } from './synth.ts';

const zone = { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.org' };
const secretsOf = (template: ReturnType<typeof synth>['template']) =>
  template.findResources('AWS::SecretsManager::Secret') as Record<string, Json>;
const tlsSecretOf = (template: ReturnType<typeof synth>['template']) =>
  Object.entries(secretsOf(template)).find(([, r]) => String(r.Properties.Description).includes('TLS certificate'));

function renewalEnv(result: ReturnType<typeof synth>): Record<string, string> {
  const fn = result.stack.certificates.renewal;
  assert.ok(fn, 'a renewal function');
  const resource = result.template.toJSON().Resources[logicalIdOf(result.stack, fn)];
  const vars = resource.Properties.Environment.Variables as Record<string, unknown>;
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : `resolved-${k}`]));
}

describe('certificates', () => {
  it('the TLS secret is retained on stack delete, keeps its logical id, and starts as the placeholder', () => {
    const { template } = synth({ hostname: 'mail.example.org' });
    const found = tlsSecretOf(template);
    assert.ok(found);
    const [id, secret] = found;
    assert.equal(id, 'GatewayTlsSecret2487661C', 'the id of earlier versions: no replacement on upgrade');
    assert.equal(secret.DeletionPolicy, 'Retain');
    assert.equal(secret.UpdateReplacePolicy, 'Retain');
    assert.deepEqual(JSON.parse(secret.Properties.SecretString), { cert: '', key: '' });
  });

  it('a host name change leaves the TLS and account secrets exactly as they were (nothing for CloudFormation to reset)', () => {
    const a = secretsOf(synth({ hostname: 'mail.example.org', hostedZone: zone }).template);
    const b = secretsOf(synth({ hostname: 'mx.example.org', hostedZone: zone }).template);
    assert.deepEqual(b, a);
  });

  it('without a hosted zone, or with a secret of your own, there is no ACME renewal', () => {
    assert.equal(synth({ hostname: 'mail.example.org' }).stack.certificates.renewal, undefined);
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:postern/tls-AbCdEf';
    const own = synth({ hostname: 'mail.example.org', hostedZone: zone, tlsSecretArn: arn });
    assert.equal(own.stack.certificates.renewal, undefined);
    assert.equal(tlsSecretOf(own.template), undefined);
  });

  it('refuses a host name outside the hosted zone (DNS-01 could not prove it)', () => {
    assert.throws(() => synth({ hostname: 'mail.example.com', hostedZone: zone }), /not in the hosted zone/);
  });

  it("renewal's environment passes loadCertRenewalConfig: Let's Encrypt production by default, staging on request", () => {
    const result = synth({ hostname: 'mail.example.org', hostedZone: zone, acme: { email: 'ops@example.org' } });
    const config = loadCertRenewalConfig(renewalEnv(result));
    assert.equal(config.directoryUrl, ACME_DIRECTORIES.production);
    assert.equal(config.hostname, 'mail.example.org');
    assert.equal(config.hostedZoneId, zone.hostedZoneId);
    assert.equal(config.email, 'ops@example.org');
    assert.equal(config.renewBeforeDays, 30);
    const staging = synth({ hostname: 'mail.example.org', hostedZone: zone, acme: { directory: 'staging' } });
    assert.equal(loadCertRenewalConfig(renewalEnv(staging)).directoryUrl, ACME_DIRECTORIES.staging);
  });

  it('renewal runs daily and once per deployment, asynchronously', () => {
    const { stack, template } = synth({ hostname: 'mail.example.org', hostedZone: zone });
    const fnId = logicalIdOf(stack, stack.certificates.renewal as never);
    const daily = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (r: Json) => r.Properties.ScheduleExpression === 'rate(1 day)',
    );
    assert.equal(daily.length, 1);
    assert.deepEqual(daily[0].Properties.Targets[0].Arn, { 'Fn::GetAtt': [fnId, 'Arn'] });
    const [trigger] = Object.values(template.findResources('Custom::Trigger')) as Json[];
    assert.ok(trigger, 'a deploy-time trigger');
    assert.equal(trigger.Properties.InvocationType, 'Event');
    // a version of the function: a new one (code or settings changed, a new host name) runs it again
    assert.match(JSON.stringify(trigger.Properties.HandlerArn), new RegExp(`"${fnId.slice(0, -8)}CurrentVersion`));
  });

  it('renewal may change only the challenge TXT record in the zone, wait for it, and use its two secrets', () => {
    const { stack, template } = synth({ hostname: 'mail.example.org', hostedZone: zone });
    const role = stack.certificates.renewal?.role;
    assert.ok(role);
    const grants = grantsOf(stack, template, logicalIdOf(stack, role));
    const on = (g: { on: string }) => g.on.replace(/\$\{AWS::Partition\}/, 'aws');
    assert.deepEqual(
      grants.map((g) => ({ ...g, on: on(g) })).sort((x, y) => (x.on < y.on ? -1 : 1)),
      [
        { actions: ['route53:GetChange'], on: 'arn:aws:route53:::change/*', condition: undefined },
        {
          actions: ['route53:ChangeResourceRecordSets'],
          on: `arn:aws:route53:::hostedzone/${zone.hostedZoneId}`,
          condition: {
            'ForAllValues:StringEquals': {
              'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_acme-challenge.mail.example.org'],
              'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'],
              'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
            },
          },
        },
        {
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          on: `other:${logicalIdOf(stack, stack.certificates.renewal!.logGroup)}`,
          condition: undefined,
        },
        {
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
          on: 'secret',
          condition: undefined,
        },
        {
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
          on: 'secret:acme-account',
          condition: undefined,
        },
      ],
    );
  });
});
