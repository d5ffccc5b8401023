/**
 * What the stack keeps and guards by default (lib/infra/protection.ts), and that a throwaway stack
 * (retainOnDelete: false, deletionProtection: false) really keeps and guards nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duration } from 'aws-cdk-lib';
import { TABLE_IDS } from '../../lib/core/schema.ts';
import { ACCESS_LOG_EXPIRATION } from '../../lib/infra/storage.ts';
import { type Json, logicalIdOf, synth } from './synth.ts';

const { stack, template } = synth();
const resourcesOf = (type: string): Record<string, Json> => template.findResources(type);
const logicalId = (construct: Parameters<typeof logicalIdOf>[1]) => logicalIdOf(stack, construct);
const retained = (resource: Json) => resource.DeletionPolicy === 'Retain' && resource.UpdateReplacePolicy === 'Retain';

/** Every resource that holds data, keys, logs or an address: what retainOnDelete governs. */
const KEPT_TYPES = [
  'AWS::DynamoDB::Table',
  'AWS::S3::Bucket',
  'AWS::SecretsManager::Secret',
  'AWS::Logs::LogGroup',
  'AWS::EC2::EIP',
];

describe('kept when the stack is deleted (defaults)', () => {
  it('every table, bucket, secret, log group and Elastic IP is retained', () => {
    for (const type of KEPT_TYPES) {
      const found = Object.entries(resourcesOf(type));
      assert.ok(found.length > 0, type);
      for (const [id, resource] of found) assert.ok(retained(resource), `${type} ${id}`);
    }
  });

  it('the gateway, every Lambda and the flow log write to a log group of the stack, kept one month', () => {
    const groups = resourcesOf('AWS::Logs::LogGroup');
    for (const group of Object.values(groups)) assert.equal(group.Properties.RetentionInDays, 30);
    const functions = resourcesOf('AWS::Lambda::Function');
    for (const fn of stack.allFunctions) {
      const group = functions[logicalId(fn)].Properties.LoggingConfig.LogGroup.Ref;
      assert.ok(groups[group], `${fn.node.id} logs to its own group`);
    }
    const [task] = Object.values(resourcesOf('AWS::ECS::TaskDefinition'));
    const gatewayGroup = task.Properties.ContainerDefinitions[0].LogConfiguration.Options['awslogs-group'].Ref;
    assert.ok(groups[gatewayGroup], 'the gateway logs to a group of the stack');
    const [flowLog] = Object.values(resourcesOf('AWS::EC2::FlowLog'));
    assert.ok(groups[flowLog.Properties.LogGroupName.Ref], 'the flow log writes to a group of the stack');
    const used = new Set([
      gatewayGroup,
      flowLog.Properties.LogGroupName.Ref,
      ...stack.allFunctions.map((fn) => functions[logicalId(fn)].Properties.LoggingConfig.LogGroup.Ref),
    ]);
    assert.deepEqual([...used].sort(), Object.keys(groups).sort(), 'no log group without a writer');
  });

  it('no Lambda role has a managed policy (AWSLambdaBasicExecutionRole could write to any log group)', () => {
    const roles = resourcesOf('AWS::IAM::Role');
    for (const fn of stack.allFunctions) {
      assert.equal(roles[logicalId(fn.role!)].Properties.ManagedPolicyArns, undefined, fn.node.id);
    }
  });
});

describe('guarded against deletion (defaults)', () => {
  it('every table has deletion protection and point-in-time recovery', () => {
    const tables = resourcesOf('AWS::DynamoDB::Table');
    assert.equal(Object.keys(tables).length, TABLE_IDS.length);
    for (const id of TABLE_IDS) {
      const p = tables[logicalId(stack.storage.tables[id])].Properties;
      assert.equal(p.DeletionProtectionEnabled, true, id);
      assert.deepEqual(p.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true }, id);
    }
  });

  it('the NLB has deletion protection', () => {
    const [nlb] = Object.values(resourcesOf('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    assert.deepEqual(
      nlb.Properties.LoadBalancerAttributes.filter((a: Json) => a.Key === 'deletion_protection.enabled'),
      [{ Key: 'deletion_protection.enabled', Value: 'true' }],
    );
  });
});

describe('the message bucket', () => {
  const buckets = resourcesOf('AWS::S3::Bucket');
  const messages = () => buckets[logicalId(stack.storage.bucket)].Properties;
  const accessLogs = () => buckets[logicalId(stack.storage.accessLogs)].Properties;
  const rule = (properties: Json, id: string) => properties.LifecycleConfiguration.Rules.find((r: Json) => r.Id === id);

  it('is versioned; old versions expire after 30 days, leftover delete markers go, unfinished uploads after a day', () => {
    assert.deepEqual(messages().VersioningConfiguration, { Status: 'Enabled' });
    assert.deepEqual(rule(messages(), 'abort-incomplete-uploads'), {
      Id: 'abort-incomplete-uploads',
      Status: 'Enabled',
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    });
    assert.deepEqual(rule(messages(), 'expire-noncurrent-versions'), {
      Id: 'expire-noncurrent-versions',
      Status: 'Enabled',
      NoncurrentVersionExpiration: { NoncurrentDays: 30 },
    });
    assert.deepEqual(rule(messages(), 'remove-expired-delete-markers'), {
      Id: 'remove-expired-delete-markers',
      Status: 'Enabled',
      ExpiredObjectDeleteMarker: true,
    });
    assert.equal(messages().LifecycleConfiguration.Rules.length, 3, 'no rule expires current messages');
  });

  it('logs its access to a private, TLS-only log bucket that keeps the logs 90 days', () => {
    assert.deepEqual(messages().LoggingConfiguration, {
      DestinationBucketName: { Ref: logicalId(stack.storage.accessLogs) },
      LogFilePrefix: 'messages/',
    });
    const logs = accessLogs();
    assert.deepEqual(logs.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    assert.deepEqual(logs.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    assert.equal(ACCESS_LOG_EXPIRATION.toDays(), 90);
    assert.deepEqual(rule(logs, 'expire-access-logs').ExpirationInDays, 90);
    for (const bucket of [stack.storage.bucket, stack.storage.accessLogs]) {
      const policy = Object.values(resourcesOf('AWS::S3::BucketPolicy')).find(
        (p) => p.Properties.Bucket.Ref === logicalId(bucket),
      );
      assert.ok(
        policy?.Properties.PolicyDocument.Statement.some(
          (s: Json) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
        ),
        `${bucket.node.id} refuses plain HTTP`,
      );
    }
  });
});

describe('visibility (defaults)', () => {
  it('the VPC has a flow log of all traffic; the cluster has Container Insights', () => {
    const [flowLog, ...more] = Object.values(resourcesOf('AWS::EC2::FlowLog'));
    assert.equal(more.length, 0);
    assert.equal(flowLog.Properties.TrafficType, 'ALL');
    assert.deepEqual(flowLog.Properties.ResourceId, { Ref: logicalId(stack.network.vpc) });
    const [cluster] = Object.values(resourcesOf('AWS::ECS::Cluster'));
    assert.deepEqual(cluster.Properties.ClusterSettings, [{ Name: 'containerInsights', Value: 'enabled' }]);
  });
});

describe('a throwaway stack (retainOnDelete, deletionProtection, flowLogs, containerInsights all false)', () => {
  const throwaway = synth({
    retainOnDelete: false,
    deletionProtection: false,
    flowLogs: false,
    containerInsights: false,
    noncurrentVersionExpiration: Duration.days(3),
  }).template;
  const of = (type: string): Json[] => Object.values(throwaway.findResources(type));

  it('keeps nothing: every table, bucket, secret, log group and Elastic IP is deleted with the stack', () => {
    for (const type of KEPT_TYPES) {
      for (const resource of of(type)) assert.equal(resource.DeletionPolicy, 'Delete', type);
    }
  });

  it('guards nothing, logs no flows, has no Container Insights, and honours noncurrentVersionExpiration', () => {
    for (const table of of('AWS::DynamoDB::Table')) assert.equal(table.Properties.DeletionProtectionEnabled, false);
    const [nlb] = of('AWS::ElasticLoadBalancingV2::LoadBalancer');
    assert.deepEqual(
      nlb.Properties.LoadBalancerAttributes.filter((a: Json) => a.Key === 'deletion_protection.enabled'),
      [{ Key: 'deletion_protection.enabled', Value: 'false' }],
    );
    assert.equal(of('AWS::EC2::FlowLog').length, 0);
    const [cluster] = of('AWS::ECS::Cluster');
    assert.deepEqual(cluster.Properties.ClusterSettings, [{ Name: 'containerInsights', Value: 'disabled' }]);
    const rules = of('AWS::S3::Bucket').flatMap((b) => b.Properties.LifecycleConfiguration?.Rules ?? []);
    assert.deepEqual(
      rules.filter((r: Json) => r.NoncurrentVersionExpiration).map((r: Json) => r.NoncurrentVersionExpiration),
      [{ NoncurrentDays: 3 }],
    );
  });
});
