import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { BUCKET_ENV, TABLE_ENV } from '../core/schema.ts';
import { GATEWAY_ACCESS, grantAccess, tablesOf } from './access.ts';
import type { Functions } from './functions.ts';
import { REPO_ROOT } from './paths.ts';
import { GATEWAY_PORTS } from './ports.ts';
import { ownedLogGroup, type Protection } from './protection.ts';
import type { Storage } from './storage.ts';

export interface GatewayServiceProps {
  readonly vpc: ec2.IVpc;
  readonly storage: Storage;
  readonly functions: Functions;
  readonly hostname: string;
  /** The TLS certificate chain and key (lib/infra/certificates.ts); the gateway reloads it when it changes. */
  readonly tlsSecret: secretsmanager.ISecret;
  readonly desiredCount: number;
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  /** CloudWatch Container Insights on the cluster (per-task CPU, memory and network metrics; billed per metric). */
  readonly containerInsights: boolean;
  readonly protection: Protection;
}

/** The `node` user of node:24-slim (see the Dockerfile): the gateway never runs as root. */
const NODE_USER = '1000:1000';

/**
 * The gateway: one long-lived Fargate service (ARM64) in the public subnets, terminating TCP and TLS for SMTP,
 * submission, POP3 and IMAP behind the NLB, as an unprivileged user on unprivileged ports. Its task role makes
 * the storage calls its code makes (GATEWAY_ACCESS), invokes the four mail-logic functions and reads the TLS
 * secret: nothing more. Its security group admits nothing until the load balancer allows itself in.
 */
export class GatewayService extends Construct {
  readonly service: ecs.FargateService;
  readonly container: ecs.ContainerDefinition;
  readonly securityGroup: ec2.SecurityGroup;
  readonly tlsSecret: secretsmanager.ISecret;
  readonly srsSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: GatewayServiceProps) {
    super(scope, id);
    const { vpc, storage, functions } = props;

    this.tlsSecret = props.tlsSecret;

    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: props.containerInsights ? ecs.ContainerInsights.ENABLED : ecs.ContainerInsights.DISABLED,
    });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryLimitMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });

    const environment: Record<string, string> = {
      NODE_ENV: 'production',
      POSTERN_HOST: '0.0.0.0',
      POSTERN_PROXY_PROTOCOL: '1',
      POSTERN_HOSTNAME: props.hostname,
      POSTERN_TLS_SECRET_ARN: this.tlsSecret.secretArn,
      POSTERN_FN_ROUTE: functions.route.functionName,
      POSTERN_FN_FILTER: functions.filter.functionName,
      POSTERN_FN_STORE: functions.store.functionName,
      POSTERN_FN_DELIVER: functions.deliver.functionName,
      [BUCKET_ENV]: storage.bucket.bucketName,
    };
    for (const tableId of tablesOf(GATEWAY_ACCESS)) environment[TABLE_ENV[tableId]] = storage.tables[tableId].tableName;
    for (const p of GATEWAY_PORTS) environment[p.env] = String(p.containerPort);

    // The SRS key (lib/delivery/srs.ts) that forwarding signs rewritten senders with: generated once, kept
    // with the stack's data (a new key would refuse the bounces to every address rewritten before it).
    this.srsSecret = new secretsmanager.Secret(this, 'SrsSecret', {
      description: 'Postern: key of the Sender Rewriting Scheme for forwarded mail',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: props.protection.removalPolicy,
    });

    const logGroup = ownedLogGroup(this, 'Logs', props.protection);

    this.container = taskDefinition.addContainer('gateway', {
      image: ecs.ContainerImage.fromAsset(REPO_ROOT, { file: 'Dockerfile', platform: Platform.LINUX_ARM64 }),
      essential: true,
      user: NODE_USER,
      environment,
      secrets: { POSTERN_SRS_SECRET: ecs.Secret.fromSecretsManager(this.srsSecret) },
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'gateway' }),
      portMappings: GATEWAY_PORTS.map((p) => ({
        name: p.name.toLowerCase(),
        containerPort: p.containerPort,
        protocol: ecs.Protocol.TCP,
      })),
      // Fargate's maximum: time for sessions to drain after SIGTERM.
      stopTimeout: Duration.seconds(120),
      // One descriptor per connection: the listeners' caps (6,000 by default) plus the gateway's reserve for
      // storage sockets must fit; the gateway scales its caps down to what the limit allows.
      ulimits: [{ name: ecs.UlimitName.NOFILE, softLimit: 65_535, hardLimit: 65_535 }],
    });

    const role = taskDefinition.taskRole;
    grantAccess(role, storage, GATEWAY_ACCESS);
    // The gateway invokes each function by its unqualified name: no version or alias (`:*`) grant.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: functions.invokedByGateway.map((fn) => fn.functionArn),
      }),
    );
    this.tlsSecret.grantRead(role);

    // No ingress here: tasks trust the PROXY v2 header for the client address, so only the NLB may reach them
    // (LoadBalancer admits its own security group, on the container ports).
    this.securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc,
      description: 'Postern gateway tasks: mail ports from the NLB only',
      allowAllOutbound: true,
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: props.desiredCount,
      assignPublicIp: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [this.securityGroup],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: Duration.seconds(60),
    });
  }
}
