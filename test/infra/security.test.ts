/**
 * The stack's security properties: least-privilege IAM per component (exactly the storage calls its code
 * makes), only the NLB reaching the tasks (they trust the PROXY v2 header), and a gateway that is not root.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { REPO_ROOT } from '../../lib/infra/paths.ts';
import { grantsOf, type Json, logicalIdOf, synth, unconditionalAccess } from './synth.ts';

const { stack, template } = synth();
const resourcesOf = (type: string): Record<string, Json> => template.findResources(type);
const grantsOfRole = (role: iam.IRole) => grantsOf(stack, template, logicalIdOf(stack, role));
const roles = {
  gateway: stack.gateway.service.taskDefinition.taskRole,
  route: stack.functions.route.role!,
  filter: stack.functions.filter.role!,
  store: stack.functions.store.role!,
  deliver: stack.functions.deliver.role!,
  sesFeedback: stack.functions.sesFeedback.role!,
  notify: stack.notifier.fn.role!,
};

/** Listener port -> container (target) port: the standard ports outside, unprivileged ones inside. */
/** How grants name the SES configuration set (synth.ts names resources by what they are). */
const configurationSet = 'ses-configuration-set';

/** What each function may do to its own log group (and no other: no AWSLambdaBasicExecutionRole). */
const LOG_WRITE = ['logs:CreateLogStream', 'logs:PutLogEvents'];

const PORT_MAP: Record<number, number> = {
  25: 2525,
  465: 2465,
  587: 2587,
  110: 2110,
  995: 2995,
  143: 2143,
  993: 2993,
};
const CONTAINER_PORTS = Object.values(PORT_MAP).sort((a, b) => a - b);
const LISTENER_PORTS = Object.keys(PORT_MAP)
  .map(Number)
  .sort((a, b) => a - b);

describe('least privilege: each role gets exactly the storage calls its code makes', () => {
  it('gateway: reads the directory, writes mailboxes, messages, changes and leases as POP3, SMTP and the IMAP storage calls do', () => {
    const grants = grantsOfRole(roles.gateway);
    const invoke = ['lambda:InvokeFunction'];
    assert.deepEqual(unconditionalAccess(grants), {
      bucket: ['s3:ListBucket'],
      'bucket/messages/*': ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      'function:deliver': invoke,
      'function:filter': invoke,
      'function:route': invoke,
      'function:store': invoke,
      secret: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      'table:changes': ['dynamodb:PutItem', 'dynamodb:Query'],
      'table:directory': ['dynamodb:GetItem'],
      'table:leases': ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      'table:mailboxes': [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ],
      'table:messages': [
        'dynamodb:BatchGetItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ],
      'table:messages/index/byModseq': ['dynamodb:Query'],
      'table:queue': ['dynamodb:PutItem'],
    });
  });

  it('gateway: may update only the passwordHash of ACCOUNT# items in the directory (rehash at login)', () => {
    const conditional = grantsOfRole(roles.gateway).filter((g) => g.condition !== undefined);
    assert.deepEqual(conditional, [
      {
        actions: ['dynamodb:UpdateItem'],
        on: 'table:directory',
        condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT#*'] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'passwordHash'] },
        },
      },
    ]);
  });

  it('route: GetItem on the directory, nothing else', () => {
    assert.deepEqual(unconditionalAccess(grantsOfRole(roles.route)), {
      'logs:route': LOG_WRITE,
      'table:directory': ['dynamodb:GetItem'],
    });
    assert.deepEqual(
      grantsOfRole(roles.route).filter((g) => g.condition !== undefined),
      [],
    );
  });

  it('filter: GetObject on message objects, nothing else', () => {
    assert.deepEqual(unconditionalAccess(grantsOfRole(roles.filter)), {
      'bucket/messages/*': ['s3:GetObject'],
      'logs:filter': LOG_WRITE,
    });
    assert.deepEqual(
      grantsOfRole(roles.filter).filter((g) => g.condition !== undefined),
      [],
    );
  });

  it('store: reads the directory and the message, writes the mailbox index (no deletes)', () => {
    assert.deepEqual(unconditionalAccess(grantsOfRole(roles.store)), {
      'bucket/messages/*': ['s3:GetObject'],
      'logs:store': LOG_WRITE,
      'table:changes': ['dynamodb:PutItem'],
      'table:directory': ['dynamodb:GetItem'],
      'table:mailboxes': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      'table:messages': ['dynamodb:GetItem', 'dynamodb:PutItem'],
    });
    assert.deepEqual(
      grantsOfRole(roles.store).filter((g) => g.condition !== undefined),
      [],
    );
  });

  it('deliver: works the queue, reads messages and the DKIM secrets, sends through SES, stores DSNs as the store does', () => {
    const account = (service: string, resource: string) =>
      `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`;
    assert.deepEqual(unconditionalAccess(grantsOfRole(roles.deliver)), {
      [account('secretsmanager', 'secret:postern/dkim/*')]: ['secretsmanager:GetSecretValue'],
      [account('ses', 'identity/*')]: ['ses:SendEmail', 'ses:SendRawEmail'],
      // SendEmail with ConfigurationSetName is authorized on the configuration set too.
      [account('ses', `configuration-set/${configurationSet}`)]: ['ses:SendEmail', 'ses:SendRawEmail'],
      bucket: ['s3:ListBucket'],
      'bucket/messages/*': ['s3:GetObject', 's3:PutObject'],
      'logs:deliver': LOG_WRITE,
      'table:changes': ['dynamodb:PutItem'],
      'table:directory': ['dynamodb:GetItem'],
      'table:mailboxes': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      'table:messages': ['dynamodb:GetItem', 'dynamodb:PutItem'],
      'table:queue': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      'table:queue/index/byState': ['dynamodb:Query'],
    });
    assert.deepEqual(
      grantsOfRole(roles.deliver)
        .filter((g) => g.condition !== undefined)
        .map((g) => [g.on, g.actions]),
      [['table:mailboxes', ['dynamodb:DeleteItem']]],
      'it deletes only blob references',
    );
  });

  it('sesFeedback: writes the SES suppression list and sends DSNs as deliver does, nothing else', () => {
    assert.deepEqual(unconditionalAccess(grantsOfRole(roles.sesFeedback)), {
      // PutSuppressedDestination has no resource type: '*', for that one action only.
      '*': ['ses:PutSuppressedDestination'],
      'bucket/messages/*': ['s3:GetObject', 's3:PutObject'],
      'logs:sesFeedback': LOG_WRITE,
      'queue:ses-feedback-failed': ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
      'table:changes': ['dynamodb:PutItem'],
      'table:directory': ['dynamodb:GetItem'],
      'table:mailboxes': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
      'table:messages': ['dynamodb:GetItem', 'dynamodb:PutItem'],
      'table:queue': ['dynamodb:PutItem'],
    });
    assert.deepEqual(
      grantsOfRole(roles.sesFeedback).filter((g) => g.condition !== undefined),
      [],
    );
  });

  it('only deliver reads DKIM secrets or sends through SES; only sesFeedback writes the suppression list', () => {
    for (const [name, role] of Object.entries(roles)) {
      if (name === 'deliver') continue;
      const actions = grantsOfRole(role).flatMap((g) => g.actions);
      const allowed = name === 'sesFeedback' ? ['ses:PutSuppressedDestination'] : [];
      assert.ok(!actions.some((a) => a.startsWith('ses:') && !allowed.includes(a)), `${name} may send`);
      const secrets = grantsOfRole(role).filter((g) => g.actions.includes('secretsmanager:GetSecretValue'));
      assert.ok(
        secrets.every((g) => g.on === 'secret'),
        `${name} reads ${secrets.map((g) => g.on)}`,
      );
    }
  });

  it("no statement anywhere allows a Scan or a wildcard action; the only index grants are the gateway's Query of byModseq and deliver's of byState", () => {
    const statements = Object.values(resourcesOf('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    assert.ok(statements.length > 0);
    for (const statement of statements) {
      for (const action of [statement.Action].flat()) {
        assert.ok(!/Scan$|\*/.test(action), `${action} granted`);
      }
    }
    const indexGrants = Object.entries(roles).flatMap(([role, r]) =>
      grantsOfRole(r)
        .filter((g) => g.on.includes('/index/'))
        .map((g) => ({ role, on: g.on, actions: g.actions })),
    );
    assert.deepEqual(indexGrants, [
      { role: 'gateway', on: 'table:messages/index/byModseq', actions: ['dynamodb:Query'] },
      { role: 'deliver', on: 'table:queue/index/byState', actions: ['dynamodb:Query'] },
    ]);
  });

  it('the gateway has no PutItem, DeleteItem or batch write on the directory (password hashes)', () => {
    const onDirectory = grantsOfRole(roles.gateway).filter((g) => g.on === 'table:directory');
    const actions = new Set(onDirectory.flatMap((g) => g.actions));
    for (const forbidden of ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:Scan']) {
      assert.ok(!actions.has(forbidden), forbidden);
    }
  });

  it('only these seven roles touch the tables or the bucket, and none has a managed policy that could', () => {
    const allowed = new Set(Object.values(roles).map((role) => logicalIdOf(stack, role)));
    for (const policy of Object.values(resourcesOf('AWS::IAM::Policy'))) {
      const statements: Json[] = policy.Properties.PolicyDocument.Statement;
      const storage = statements.some((s) => [s.Action].flat().some((a: string) => /^(dynamodb|s3):/.test(a)));
      if (!storage) continue;
      for (const role of policy.Properties.Roles) assert.ok(allowed.has(role.Ref), `${role.Ref} has storage grants`);
    }
    for (const role of Object.values(resourcesOf('AWS::IAM::Role'))) {
      assert.doesNotMatch(JSON.stringify(role.Properties.ManagedPolicyArns ?? []), /DynamoDB|S3/);
    }
  });
});

describe('network: only the NLB reaches the tasks, which trust its PROXY v2 header', () => {
  const [nlb] = Object.values(resourcesOf('AWS::ElasticLoadBalancingV2::LoadBalancer'));
  const groups = resourcesOf('AWS::EC2::SecurityGroup');
  // Looked up in each test, so each one fails on its own where a group is missing.
  const nlbGroup = () => logicalIdOf(stack, stack.loadBalancer.securityGroup);
  const taskGroup = () => logicalIdOf(stack, stack.gateway.securityGroup);
  const groupRef = (id: string) => ({ 'Fn::GetAtt': [id, 'GroupId'] });
  /** Inline rules of a group plus the standalone ingress or egress resources naming it. */
  const rulesOf = (id: string, direction: 'Ingress' | 'Egress'): Json[] => [
    ...(groups[id].Properties[`SecurityGroup${direction}`] ?? []),
    ...Object.values(resourcesOf(`AWS::EC2::SecurityGroup${direction}`))
      .map((r) => r.Properties)
      .filter((p) => JSON.stringify(p.GroupId) === JSON.stringify(groupRef(id))),
  ];
  const ports = (rules: Json[]) => rules.map((r) => r.FromPort).sort((a: number, b: number) => a - b);

  it('gives the NLB its own security group', () => {
    assert.deepEqual(nlb.Properties.SecurityGroups, [groupRef(nlbGroup())]);
    assert.notEqual(nlbGroup(), taskGroup());
  });

  it('the NLB group admits anyone on exactly the mail listener ports (an MX must be reachable)', () => {
    const ingress = rulesOf(nlbGroup(), 'Ingress');
    assert.deepEqual(ports(ingress), LISTENER_PORTS);
    for (const rule of ingress) {
      assert.equal(rule.IpProtocol, 'tcp');
      assert.equal(rule.CidrIp, '0.0.0.0/0');
      assert.equal(rule.ToPort, rule.FromPort);
    }
  });

  it('the NLB group sends only to the task group, on the container ports', () => {
    const egress = rulesOf(nlbGroup(), 'Egress');
    assert.deepEqual(ports(egress), CONTAINER_PORTS);
    for (const rule of egress) {
      assert.equal(rule.IpProtocol, 'tcp');
      assert.deepEqual(rule.DestinationSecurityGroupId, groupRef(taskGroup()));
      assert.equal(rule.ToPort, rule.FromPort);
    }
  });

  it('the task group admits only the NLB group, only on the container ports: no CIDR, not even the VPC', () => {
    // besides the UDP notice port, open to the notify function's group only (test/infra/notifier.test.ts)
    const all = rulesOf(taskGroup(), 'Ingress');
    const ingress = all.filter((rule) => rule.IpProtocol !== 'udp');
    assert.deepEqual(
      all.filter((rule) => rule.IpProtocol === 'udp').map((rule) => rule.SourceSecurityGroupId),
      [groupRef(logicalIdOf(stack, stack.notifier.securityGroup))],
    );
    assert.deepEqual(ports(ingress), CONTAINER_PORTS);
    for (const rule of ingress) {
      assert.equal(rule.IpProtocol, 'tcp');
      assert.equal(rule.CidrIp, undefined);
      assert.equal(rule.CidrIpv6, undefined);
      assert.deepEqual(rule.SourceSecurityGroupId, groupRef(nlbGroup()));
      assert.equal(rule.ToPort, rule.FromPort);
    }
    const [service] = Object.values(resourcesOf('AWS::ECS::Service'));
    assert.deepEqual(service.Properties.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups, [
      groupRef(taskGroup()),
    ]);
  });

  it('no security group in the stack admits a CIDR other than the NLB listeners', () => {
    const nlbRules = new Set(rulesOf(nlbGroup(), 'Ingress').map((rule) => JSON.stringify(rule)));
    const everyIngress = Object.keys(groups).flatMap((id) => rulesOf(id, 'Ingress'));
    assert.equal(
      everyIngress.length,
      Object.values(groups).reduce((n, g) => n + (g.Properties.SecurityGroupIngress?.length ?? 0), 0) +
        Object.keys(resourcesOf('AWS::EC2::SecurityGroupIngress')).length,
      'every ingress rule belongs to a group of this stack',
    );
    for (const rule of everyIngress) {
      if (rule.CidrIp === undefined && rule.CidrIpv6 === undefined) continue;
      assert.ok(nlbRules.has(JSON.stringify(rule)), JSON.stringify(rule));
    }
  });
});

describe('the gateway runs unprivileged', () => {
  const [task] = Object.values(resourcesOf('AWS::ECS::TaskDefinition'));
  const [container] = task.Properties.ContainerDefinitions;
  const isRoot = (user: string) => /^(root|0)(:|$)/.test(user);

  it('the container definition names a non-root user (node, uid 1000)', () => {
    assert.equal(typeof container.User, 'string');
    assert.ok(!isRoot(container.User), container.User);
    assert.equal(container.User, '1000:1000');
  });

  it('the task may hold a descriptor for every connection the listeners allow', () => {
    assert.deepEqual(container.Ulimits, [{ Name: 'nofile', SoftLimit: 65535, HardLimit: 65535 }]);
  });

  it('the Dockerfile switches to a non-root USER before CMD', () => {
    const lines = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const users = lines.filter((line) => /^USER\s/i.test(line)).map((line) => line.split(/\s+/)[1]);
    assert.ok(users.length > 0, 'a USER instruction');
    assert.ok(!isRoot(users.at(-1)!), `USER ${users.at(-1)}`);
    const cmd = lines.findIndex((line) => /^CMD\s/i.test(line));
    assert.ok(lines.findLastIndex((line) => /^USER\s/i.test(line)) < cmd, 'USER comes before CMD');
    const exposed = lines
      .filter((line) => /^EXPOSE\s/i.test(line))
      .flatMap((line) => line.split(/\s+/).slice(1))
      .map(Number)
      .sort((a, b) => a - b);
    assert.deepEqual(exposed, CONTAINER_PORTS, 'EXPOSE lists the container ports');
  });

  it('the container listens on unprivileged ports (>= 1024), told through POSTERN_*_PORT', () => {
    const mapped = container.PortMappings.map((m: Json) => m.ContainerPort).sort((a: number, b: number) => a - b);
    assert.deepEqual(mapped, CONTAINER_PORTS);
    for (const port of mapped) assert.ok(port >= 1024, `container port ${port}`);
    const env = new Map<string, string>(container.Environment.map((e: Json) => [e.Name, e.Value]));
    // POSTERN_NOTIFY_PORT is the UDP notice listener's, not a mail listener's (test/infra/notifier.test.ts)
    const portEnv = [...env]
      .filter(([name]) => /^POSTERN_[A-Z0-9]+_PORT$/.test(name) && name !== 'POSTERN_NOTIFY_PORT')
      .map(([, v]) => Number(v));
    assert.deepEqual(
      portEnv.sort((a, b) => a - b),
      CONTAINER_PORTS,
    );
  });

  it('each NLB listener on a standard port forwards to a target group on its unprivileged port, health-checked there', () => {
    const listeners = Object.values(resourcesOf('AWS::ElasticLoadBalancingV2::Listener'));
    const targetGroups = resourcesOf('AWS::ElasticLoadBalancingV2::TargetGroup');
    const mapping = Object.fromEntries(
      listeners.map((listener) => {
        const group = targetGroups[listener.Properties.DefaultActions[0].TargetGroupArn.Ref].Properties;
        assert.equal(group.HealthCheckPort, String(group.Port), 'health check on the target port');
        assert.deepEqual(
          group.TargetGroupAttributes.filter((a: Json) => a.Key === 'preserve_client_ip.enabled'),
          [{ Key: 'preserve_client_ip.enabled', Value: 'false' }],
        );
        return [listener.Properties.Port, group.Port];
      }),
    );
    assert.deepEqual(mapping, PORT_MAP);
    const [service] = Object.values(resourcesOf('AWS::ECS::Service'));
    assert.deepEqual(
      service.Properties.LoadBalancers.map((lb: Json) => lb.ContainerPort).sort((a: number, b: number) => a - b),
      CONTAINER_PORTS,
    );
  });
});
