import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { TABLE_IDS, TABLES } from '../../lib/core/schema.ts';
import { REPO_ROOT } from '../../lib/infra/paths.ts';
import { GATEWAY_PORTS } from '../../lib/infra/ports.ts';
import { type Json, logicalIdOf, synth } from './synth.ts';

const { stack, template } = synth();

const logicalId = (construct: Parameters<typeof logicalIdOf>[1]): string => logicalIdOf(stack, construct);

function resourcesOf(type: string): Record<string, Json> {
  return template.findResources(type);
}

describe('PosternStack', () => {
  it('synthesizes without bundling: Lambda code points at the unbundled project root (esbuild skipped)', () => {
    assert.equal(stack.bundlingRequired, false);
    for (const fn of stack.functions.all) {
      const resource = resourcesOf('AWS::Lambda::Function')[logicalId(fn)];
      // A bundled asset would be staged as cdk.out/asset.<hash>; a skipped one stays at its source directory.
      assert.equal(resource.Metadata['aws:asset:path'], REPO_ROOT);
    }
  });

  it('has 7 TCP NLB listeners on 25, 465, 587, 110, 995, 143, 993, each forwarding to its own target group', () => {
    const listeners = Object.values(resourcesOf('AWS::ElasticLoadBalancingV2::Listener'));
    assert.equal(listeners.length, 7);
    assert.deepEqual(
      listeners.map((l) => l.Properties.Port).sort((a, b) => a - b),
      [25, 110, 143, 465, 587, 993, 995],
    );
    const groups = resourcesOf('AWS::ElasticLoadBalancingV2::TargetGroup');
    const used = new Set<string>();
    for (const listener of listeners) {
      assert.equal(listener.Properties.Protocol, 'TCP');
      const [action] = listener.Properties.DefaultActions;
      assert.equal(action.Type, 'forward');
      const group = groups[action.TargetGroupArn.Ref];
      assert.ok(group, 'listener forwards to a target group of this stack');
      used.add(action.TargetGroupArn.Ref);
    }
    assert.equal(used.size, 7);
  });

  it('has 7 IP target groups with proxy_protocol_v2.enabled=true and TCP health checks', () => {
    const groups = Object.values(resourcesOf('AWS::ElasticLoadBalancingV2::TargetGroup'));
    assert.equal(groups.length, 7);
    for (const group of groups) {
      const p = group.Properties;
      assert.equal(p.Protocol, 'TCP');
      assert.equal(p.TargetType, 'ip');
      assert.equal(p.HealthCheckProtocol, 'TCP');
      assert.ok(p.HealthCheckIntervalSeconds > 0);
      assert.deepEqual(
        p.TargetGroupAttributes.filter((a: Json) => a.Key === 'proxy_protocol_v2.enabled'),
        [{ Key: 'proxy_protocol_v2.enabled', Value: 'true' }],
      );
    }
  });

  it('puts the internet-facing NLB on one Elastic IP per public subnet', () => {
    const eips = Object.keys(resourcesOf('AWS::EC2::EIP'));
    assert.ok(eips.length >= 2);
    const [nlb] = Object.values(resourcesOf('AWS::ElasticLoadBalancingV2::LoadBalancer'));
    assert.equal(nlb.Properties.Type, 'network');
    assert.equal(nlb.Properties.Scheme, 'internet-facing');
    assert.deepEqual(
      nlb.Properties.SubnetMappings.map((m: Json) => m.AllocationId['Fn::GetAtt'][0]).sort(),
      [...eips].sort(),
    );
  });

  it('has exactly six Lambda functions, all arm64 on Node 24', () => {
    const functions = Object.values(resourcesOf('AWS::Lambda::Function'));
    assert.equal(functions.length, 6);
    for (const fn of functions) {
      assert.deepEqual(fn.Properties.Architectures, ['arm64']);
      assert.equal(fn.Properties.Runtime, 'nodejs24.x');
      assert.ok(fn.Properties.LoggingConfig.LogGroup.Ref, 'each function logs to its own log group');
    }
    for (const group of Object.values(resourcesOf('AWS::Logs::LogGroup'))) {
      assert.equal(group.Properties.RetentionInDays, 30);
    }
  });

  it('creates every table declared in TABLES with its keys, indexes, TTL, on-demand billing, PITR and RETAIN', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', TABLE_IDS.length);
    const tables = resourcesOf('AWS::DynamoDB::Table');
    for (const id of TABLE_IDS) {
      const def = TABLES[id];
      const table = tables[logicalId(stack.storage.tables[id])];
      assert.ok(table, `table ${id}`);
      const p = table.Properties;
      assert.equal(table.DeletionPolicy, 'Retain');
      assert.equal(p.BillingMode, 'PAY_PER_REQUEST');
      assert.deepEqual(p.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
      const keys = (pk: { name: string }, sk: { name: string }) => [
        { AttributeName: pk.name, KeyType: 'HASH' },
        { AttributeName: sk.name, KeyType: 'RANGE' },
      ];
      assert.deepEqual(p.KeySchema, keys(def.partitionKey, def.sortKey), `${id} key schema`);

      const declared = [def.partitionKey, def.sortKey, ...def.indexes.flatMap((i) => [i.partitionKey, i.sortKey])];
      const expectedAttributes = new Map(declared.map((a) => [a.name, a.type]));
      assert.deepEqual(
        new Map(p.AttributeDefinitions.map((a: Json) => [a.AttributeName, a.AttributeType])),
        expectedAttributes,
        `${id} attribute types`,
      );

      for (const kind of ['local', 'global'] as const) {
        const property = kind === 'local' ? 'LocalSecondaryIndexes' : 'GlobalSecondaryIndexes';
        const expected = def.indexes
          .filter((i) => i.kind === kind)
          .map((i) => ({ IndexName: i.name, KeySchema: keys(i.partitionKey, i.sortKey) }));
        const actual = (p[property] ?? []).map((i: Json) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema }));
        assert.deepEqual(actual, expected, `${id} ${kind} indexes`);
      }

      if (def.ttlAttribute) {
        assert.deepEqual(p.TimeToLiveSpecification, { AttributeName: def.ttlAttribute, Enabled: true });
      } else {
        assert.equal(p.TimeToLiveSpecification, undefined);
      }
    }
  });

  it('encrypts the bucket, blocks all public access, retains it and denies non-TLS requests', () => {
    const bucket = resourcesOf('AWS::S3::Bucket')[logicalId(stack.storage.bucket)];
    assert.equal(bucket.DeletionPolicy, 'Retain');
    assert.deepEqual(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration, [
      { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
    ]);
    assert.deepEqual(bucket.Properties.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('has no NAT gateway, only public subnets and free gateway endpoints for S3 and DynamoDB', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    for (const subnet of Object.values(resourcesOf('AWS::EC2::Subnet'))) {
      assert.equal(subnet.Properties.MapPublicIpOnLaunch, true);
    }
    const endpoints = Object.values(resourcesOf('AWS::EC2::VPCEndpoint'));
    assert.equal(endpoints.length, 2);
    const services = endpoints.map((e) => {
      assert.equal(e.Properties.VpcEndpointType, 'Gateway');
      return e.Properties.ServiceName['Fn::Join'][1].at(-1);
    });
    assert.deepEqual(services.sort(), ['.dynamodb', '.s3']);
  });

  it('runs the gateway as an ARM64 Fargate task with the storage, function, port and TLS environment', () => {
    const [task] = Object.values(resourcesOf('AWS::ECS::TaskDefinition'));
    assert.deepEqual(task.Properties.RuntimePlatform, { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' });
    assert.deepEqual(task.Properties.RequiresCompatibilities, ['FARGATE']);
    const [container] = task.Properties.ContainerDefinitions;
    const env = new Map<string, Json>(container.Environment.map((e: Json) => [e.Name, e.Value]));
    for (const p of GATEWAY_PORTS) assert.equal(env.get(p.env), String(p.containerPort));
    assert.deepEqual(
      container.PortMappings.map((m: Json) => m.ContainerPort),
      GATEWAY_PORTS.map((p) => p.containerPort),
    );
    assert.equal(env.get('POSTERN_HOST'), '0.0.0.0');
    assert.equal(env.get('POSTERN_PROXY_PROTOCOL'), '1');
    assert.equal(env.get('POSTERN_HOSTNAME'), 'mail.example.com');
    for (const name of [
      'POSTERN_FN_ROUTE',
      'POSTERN_FN_FILTER',
      'POSTERN_FN_STORE',
      'POSTERN_FN_DELIVER',
      'POSTERN_TLS_SECRET_ARN',
    ]) {
      assert.ok(env.get(name)?.Ref, name);
    }
    for (const id of TABLE_IDS) {
      assert.deepEqual(env.get(`POSTERN_TABLE_${id.toUpperCase()}`), { Ref: logicalId(stack.storage.tables[id]) });
    }
    assert.deepEqual(env.get('POSTERN_BUCKET'), { Ref: logicalId(stack.storage.bucket) });

    const [service] = Object.values(resourcesOf('AWS::ECS::Service'));
    assert.equal(service.Properties.LaunchType, 'FARGATE');
    assert.equal(service.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp, 'ENABLED');
    assert.equal(service.Properties.LoadBalancers.length, 7);
  });

  it('outputs the NLB DNS name, Elastic IPs, bucket name and every table name', () => {
    const outputs = Object.keys(template.toJSON().Outputs);
    for (const name of ['NlbDnsName', 'ElasticIps', 'BucketName']) assert.ok(outputs.includes(name), name);
    for (const id of TABLE_IDS) {
      assert.ok(outputs.includes(`Table${id[0].toUpperCase()}${id.slice(1)}Name`), id);
    }
  });

  it('uses an existing TLS secret when given its ARN instead of creating a placeholder', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:postern/tls-AbCdEf';
    const { template: withSecret } = synth({ tlsSecretArn: arn, hostname: 'mx.example.org' });
    // only the SRS key is made; no TLS placeholder
    const secrets = Object.values(withSecret.findResources('AWS::SecretsManager::Secret'));
    assert.deepEqual(
      secrets.map((r) => r.Properties.Description),
      ['Postern: key of the Sender Rewriting Scheme for forwarded mail'],
    );
    const [task] = Object.values(withSecret.findResources('AWS::ECS::TaskDefinition'));
    const env = new Map(task.Properties.ContainerDefinitions[0].Environment.map((e: Json) => [e.Name, e.Value]));
    assert.equal(env.get('POSTERN_TLS_SECRET_ARN'), arn);
    assert.equal(env.get('POSTERN_HOSTNAME'), 'mx.example.org');
    withSecret.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
            Resource: arn,
          }),
        ]),
      },
    });
  });

  it('gives the gateway a generated SRS key as a container secret, kept when the stack goes (forwarding, RFC 7208 §11)', () => {
    const [task] = Object.values(resourcesOf('AWS::ECS::TaskDefinition'));
    const [secret] = task.Properties.ContainerDefinitions[0].Secrets;
    assert.equal(secret.Name, 'POSTERN_SRS_SECRET');
    const srs = Object.entries(resourcesOf('AWS::SecretsManager::Secret')).find(([, r]) =>
      String(r.Properties.Description).includes('Sender Rewriting Scheme'),
    );
    assert.ok(srs);
    assert.equal(srs[1].DeletionPolicy, 'Retain');
    assert.ok(srs[1].Properties.GenerateSecretString.PasswordLength >= 16, 'the gateway refuses a shorter key');
    assert.deepEqual(secret.ValueFrom, { Ref: srs[0] });
  });

  it('runs deliver every minute from an EventBridge rule, with a timeout shorter than its claims', () => {
    const rules = Object.values(resourcesOf('AWS::Events::Rule')).filter((r) => r.Properties.ScheduleExpression);
    assert.equal(rules.length, 1);
    const [rule] = rules;
    assert.equal(rule.Properties.ScheduleExpression, 'rate(1 minute)');
    assert.equal(rule.Properties.State, 'ENABLED');
    assert.deepEqual(
      rule.Properties.Targets.map((t: Json) => t.Arn['Fn::GetAtt'][0]),
      [logicalId(stack.functions.deliver)],
    );
    const permissions = Object.values(resourcesOf('AWS::Lambda::Permission'));
    assert.ok(
      permissions.some(
        (p) =>
          p.Properties.Principal === 'events.amazonaws.com' &&
          p.Properties.FunctionName['Fn::GetAtt'][0] === logicalId(stack.functions.deliver),
      ),
    );
    const fn = resourcesOf('AWS::Lambda::Function')[logicalId(stack.functions.deliver)];
    // The runner's claim is 15 minutes (DEFAULT_RUNNER_LIMITS): a run cut off at its timeout never overlaps it.
    assert.ok(fn.Properties.Timeout * 1000 < 15 * 60_000);
    assert.equal(fn.Properties.Environment.Variables.POSTERN_OUTBOUND_TRANSPORT, 'ses');
  });

  it('SES feedback: deliver sends with a configuration set whose bounces and complaints reach sesFeedback through EventBridge, retries bounded', () => {
    const configurationSet = logicalId(stack.sesFeedback.configurationSet);
    const deliver = resourcesOf('AWS::Lambda::Function')[logicalId(stack.functions.deliver)];
    assert.deepEqual(deliver.Properties.Environment.Variables.POSTERN_SES_CONFIGURATION_SET, { Ref: configurationSet });
    const [destination, ...more] = Object.values(resourcesOf('AWS::SES::ConfigurationSetEventDestination'));
    assert.equal(more.length, 0);
    assert.deepEqual(destination.Properties.ConfigurationSetName, { Ref: configurationSet });
    assert.deepEqual([...destination.Properties.EventDestination.MatchingEventTypes].sort(), ['bounce', 'complaint']);
    const bus = JSON.stringify(destination.Properties.EventDestination.EventBridgeDestination.EventBusArn);
    assert.match(bus, /:event-bus\/default"/, 'SES publishes to the default bus only');

    const rule = resourcesOf('AWS::Events::Rule')[logicalId(stack.sesFeedback.rule)];
    assert.deepEqual(rule.Properties.EventPattern, {
      source: ['aws.ses'],
      'detail-type': ['Email Bounced', 'Email Complaint Received'],
      detail: { mail: { tags: { 'ses:configuration-set': [{ Ref: configurationSet }] } } },
    });
    const failed = logicalId(stack.sesFeedback.failed);
    assert.deepEqual(rule.Properties.Targets, [
      {
        Arn: { 'Fn::GetAtt': [logicalId(stack.functions.sesFeedback), 'Arn'] },
        Id: 'Target0',
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [failed, 'Arn'] } },
        RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 8 },
      },
    ]);
    const [invokeConfig, ...others] = Object.values(resourcesOf('AWS::Lambda::EventInvokeConfig'));
    assert.equal(others.length, 0);
    assert.deepEqual(invokeConfig.Properties.FunctionName, { Ref: logicalId(stack.functions.sesFeedback) });
    assert.equal(invokeConfig.Properties.MaximumRetryAttempts, 2);
    assert.equal(invokeConfig.Properties.MaximumEventAgeInSeconds, 6 * 3600);
    assert.deepEqual(invokeConfig.Properties.DestinationConfig.OnFailure.Destination, {
      'Fn::GetAtt': [failed, 'Arn'],
    });
    assert.ok(
      Object.values(resourcesOf('AWS::Lambda::Permission')).some(
        (p) =>
          p.Properties.Principal === 'events.amazonaws.com' &&
          p.Properties.FunctionName['Fn::GetAtt'][0] === logicalId(stack.functions.sesFeedback),
      ),
    );
  });

  it('stays environment-agnostic (no lookups at synth)', () => {
    assert.equal(Stack.of(stack).environment, 'aws://unknown-account/unknown-region');
  });
});
