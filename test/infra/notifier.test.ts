/**
 * Push across tasks in the stack (lib/infra/notifier.ts): the changes table's stream, the notify Lambda in the
 * VPC fed by it without a batching window, the UDP port the tasks open to that function only, and its grants.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PRESENCE_PARTITION } from '../../lib/core/schema.ts';
import { NOTIFY_PORT } from '../../lib/infra/notifier.ts';
import { grantsOf, type Json, logicalIdOf, synth, unconditionalAccess } from './synth.ts';

const { stack, template } = synth();
const resources = (type: string): Json[] => Object.values(template.findResources(type));
const notifyId = logicalIdOf(stack, stack.notifier.fn);
const notifySg = logicalIdOf(stack, stack.notifier.securityGroup);
const gatewaySg = logicalIdOf(stack, stack.gateway.securityGroup);
const changesId = logicalIdOf(stack, stack.storage.tables.changes);

describe('notifier', () => {
  it('the changes table streams new images; no other table streams', () => {
    const streaming = Object.entries(template.findResources('AWS::DynamoDB::Table'))
      .filter(([, t]) => t.Properties.StreamSpecification)
      .map(([id, t]) => [id, t.Properties.StreamSpecification.StreamViewType]);
    assert.deepEqual(streaming, [[changesId, 'NEW_IMAGE']]);
  });

  it('an event source mapping from that stream to notify, from LATEST, no batching window, old batches dropped', () => {
    const mappings = resources('AWS::Lambda::EventSourceMapping');
    assert.equal(mappings.length, 1);
    const m = mappings[0].Properties;
    assert.deepEqual(m.FunctionName, { Ref: notifyId });
    assert.deepEqual(m.EventSourceArn, { 'Fn::GetAtt': [changesId, 'StreamArn'] });
    assert.equal(m.StartingPosition, 'LATEST');
    assert.equal(m.MaximumBatchingWindowInSeconds, 0);
    assert.equal(m.MaximumRecordAgeInSeconds, 60);
    assert.equal(m.MaximumRetryAttempts, 2);
  });

  it('notify runs in the VPC behind its own security group, which may send only UDP notices to the tasks and HTTPS', () => {
    const fn = template.findResources('AWS::Lambda::Function')[notifyId];
    assert.deepEqual(fn.Properties.VpcConfig.SecurityGroupIds, [{ 'Fn::GetAtt': [notifySg, 'GroupId'] }]);
    const sg = template.findResources('AWS::EC2::SecurityGroup')[notifySg].Properties;
    assert.deepEqual(
      (sg.SecurityGroupEgress ?? []).map((e: Json) => `${e.IpProtocol}:${e.FromPort}:${e.CidrIp ?? ''}`),
      ['tcp:443:0.0.0.0/0'],
    );
    const egress = resources('AWS::EC2::SecurityGroupEgress').filter(
      (e) => e.Properties.GroupId['Fn::GetAtt']?.[0] === notifySg,
    );
    assert.deepEqual(
      egress.map((e) => [e.Properties.IpProtocol, e.Properties.FromPort, e.Properties.DestinationSecurityGroupId]),
      [['udp', NOTIFY_PORT, { 'Fn::GetAtt': [gatewaySg, 'GroupId'] }]],
    );
  });

  it('the tasks admit the notice port from the notify function only, and are told to listen on it', () => {
    const udpIngress = resources('AWS::EC2::SecurityGroupIngress').filter((i) => i.Properties.IpProtocol === 'udp');
    assert.deepEqual(
      udpIngress.map((i) => [
        i.Properties.GroupId,
        i.Properties.FromPort,
        i.Properties.ToPort,
        i.Properties.SourceSecurityGroupId,
      ]),
      [[{ 'Fn::GetAtt': [gatewaySg, 'GroupId'] }, NOTIFY_PORT, NOTIFY_PORT, { 'Fn::GetAtt': [notifySg, 'GroupId'] }]],
    );
    const [task] = resources('AWS::ECS::TaskDefinition');
    const env = Object.fromEntries(
      task.Properties.ContainerDefinitions[0].Environment.map((e: Json) => [e.Name, e.Value]),
    );
    assert.equal(env.POSTERN_NOTIFY, 'cross-task');
    assert.equal(env.POSTERN_NOTIFY_HOST, '0.0.0.0');
    assert.equal(env.POSTERN_NOTIFY_PORT, String(NOTIFY_PORT));
  });

  it('least privilege: notify queries only the presence partition of leases, and reads only the changes stream', () => {
    const grants = grantsOf(stack, template, logicalIdOf(stack, stack.notifier.fn.role!));
    const conditional = grants.filter((g) => g.condition !== undefined);
    assert.deepEqual(
      conditional.map((g) => [g.on, g.actions, g.condition]),
      [
        [
          'table:leases',
          ['dynamodb:Query'],
          { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [PRESENCE_PARTITION] } },
        ],
      ],
    );
    const unconditional = unconditionalAccess(grants);
    for (const [on, actions] of Object.entries(unconditional)) {
      if (on === '*') {
        assert.deepEqual(actions, ['dynamodb:ListStreams']);
        continue;
      }
      if (on === `other:${logicalIdOf(stack, stack.notifier.fn.logGroup)}`) {
        assert.deepEqual(actions, ['logs:CreateLogStream', 'logs:PutLogEvents'], 'its own log group');
        continue;
      }
      assert.ok(on.includes(changesId) || on.startsWith('table:changes'), `only the stream: ${on}`);
      assert.deepEqual(actions, ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator']);
    }
  });
});
