import { CfnOutput, type Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import type { MtaStsMode } from '../clientSetup/mtaSts.ts';
import { DEFAULT_MTA_STS_MAX_AGE } from '../clientSetup/mtaSts.ts';
import { TABLE_IDS } from '../core/schema.ts';
import { type AcmeOptions, Certificates } from './certificates.ts';
import { MailDomainDns, reverseDnsOutput } from './dns.ts';
import { Functions } from './functions.ts';
import { GatewayService } from './gateway-service.ts';
import { LoadBalancer } from './load-balancer.ts';
import { Monitoring } from './monitoring.ts';
import { acknowledgeNagFindings } from './nagAcknowledgements.ts';
import { Network } from './network.ts';
import { Notifier } from './notifier.ts';
import { type ProtectionProps, protectionOf } from './protection.ts';
import { SesFeedback } from './ses-feedback.ts';
import { Storage } from './storage.ts';

export interface PosternStackProps extends StackProps, ProtectionProps {
  /** The gateway's public host name (SMTP banner, EHLO, MX target). Default 'mail.example.com'. */
  readonly hostname?: string;
  /**
   * An existing Secrets Manager secret (TLS cert chain + key): no ACME then. Default: a retained secret, filled
   * by the ACME renewal when hostedZone is given (else by hand).
   */
  readonly tlsSecretArn?: string;
  /** ACME settings of the certificate renewal (with hostedZone and no tlsSecretArn). */
  readonly acme?: AcmeOptions;
  /** Number of gateway tasks. Default 1. */
  readonly desiredCount?: number;
  /** Fargate task size. Default 256 CPU units, 512 MiB. */
  readonly cpu?: number;
  readonly memoryLimitMiB?: number;
  /** Explicit AZs; needed only when the stack has a concrete account and region (avoids an AZ lookup). */
  readonly availabilityZones?: string[];
  /** AZs of an environment-agnostic stack (default 2; 1 saves an Elastic IP, lib/infra/network.ts). */
  readonly maxAzs?: number;
  /**
   * Optional Route 53 zone of the mail domain (no lookup: both id and name must be given): every DNS record,
   * the SES identity and the HTTPS front for MTA-STS, autoconfig and autodiscover (lib/infra/dns.ts).
   */
  readonly hostedZone?: { readonly hostedZoneId: string; readonly zoneName: string };
  /** MTA-STS policy mode (RFC 8461). Default 'testing'; 'enforce' once the gateway has a CA-signed certificate. */
  readonly mtaStsMode?: MtaStsMode;
  /** A VPC flow log of all traffic to CloudWatch Logs. Default true. */
  readonly flowLogs?: boolean;
  /** CloudWatch Container Insights on the gateway's cluster. Default true. */
  readonly containerInsights?: boolean;
  // ProtectionProps (lib/infra/protection.ts): retainOnDelete, deletionProtection, logRetention (default one
  // month, for every log group) and noncurrentVersionExpiration (default 30 days).
  /** Mailed every alarm (SNS email subscription, confirmed by a link). Default: nobody; subscribe to AlarmTopicArn. */
  readonly alarmEmail?: string;
  /** Age of the oldest due outbound message that raises the QueueAge alarm. Default 4 hours. */
  readonly queueAgeAlarm?: Duration;
}

export const DEFAULT_HOSTNAME = 'mail.example.com';

/**
 * The whole deployment: network, storage, mail-logic functions, SES feedback, the gateway service and its load
 * balancer, and the alarms and dashboard watching them.
 */
export class PosternStack extends Stack {
  readonly network: Network;
  readonly storage: Storage;
  readonly functions: Functions;
  readonly certificates: Certificates;
  readonly sesFeedback: SesFeedback;
  readonly gateway: GatewayService;
  readonly loadBalancer: LoadBalancer;
  readonly monitoring: Monitoring;
  readonly notifier: Notifier;
  readonly dns?: MailDomainDns;

  constructor(scope: Construct, id: string, props: PosternStackProps = {}) {
    super(scope, id, props);
    const hostname = props.hostname ?? DEFAULT_HOSTNAME;
    const protection = protectionOf(props);
    const flowLogs = props.flowLogs ?? true;
    const containerInsights = props.containerInsights ?? true;

    this.network = new Network(this, 'Network', {
      availabilityZones: props.availabilityZones,
      maxAzs: props.maxAzs,
      flowLogs,
      protection,
    });
    this.storage = new Storage(this, 'Storage', protection);
    this.functions = new Functions(this, 'Functions', { storage: this.storage, hostname, protection });
    this.sesFeedback = new SesFeedback(this, 'SesFeedback', {
      deliver: this.functions.deliver,
      sesFeedback: this.functions.sesFeedback,
    });
    this.certificates = new Certificates(this, 'Certificates', {
      hostname,
      tlsSecretArn: props.tlsSecretArn,
      hostedZone: props.hostedZone,
      acme: props.acme,
      protection,
    });
    this.gateway = new GatewayService(this, 'Gateway', {
      vpc: this.network.vpc,
      storage: this.storage,
      functions: this.functions,
      hostname,
      tlsSecret: this.certificates.tlsSecret,
      desiredCount: props.desiredCount ?? 1,
      cpu: props.cpu ?? 256,
      memoryLimitMiB: props.memoryLimitMiB ?? 512,
      containerInsights,
      protection,
    });
    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', {
      vpc: this.network.vpc,
      gateway: this.gateway,
      protection,
    });

    this.notifier = new Notifier(this, 'Notifier', {
      vpc: this.network.vpc,
      storage: this.storage,
      gateway: this.gateway,
      protection,
    });

    if (props.hostedZone) {
      this.dns = new MailDomainDns(this, 'Dns', {
        ...props.hostedZone,
        hostname,
        elasticIps: this.loadBalancer.elasticIps,
        mtaSts: { mode: props.mtaStsMode ?? 'testing', maxAgeSeconds: DEFAULT_MTA_STS_MAX_AGE },
        protection,
      });
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      service: this.gateway.service,
      listeners: this.loadBalancer.listeners,
      functions: Object.fromEntries(this.allFunctions.map((fn) => [fn.node.id, fn])),
      deadLetterQueues: [this.sesFeedback.failed],
      containerInsights,
      alarmEmail: props.alarmEmail,
      queueAgeAlarm: props.queueAgeAlarm,
    });

    reverseDnsOutput(this, this.loadBalancer.elasticIps, hostname);

    new CfnOutput(this, 'NlbDnsName', {
      value: this.loadBalancer.nlb.loadBalancerDnsName,
      description: 'NLB DNS name',
    });
    new CfnOutput(this, 'ElasticIps', {
      value: Fn.join(
        ',',
        this.loadBalancer.elasticIps.map((eip) => eip.attrPublicIp),
      ),
      description: 'Public addresses of the NLB (A record, SPF, PTR)',
    });
    new CfnOutput(this, 'SesConfigurationSet', {
      value: this.sesFeedback.configurationSet.configurationSetName,
      description: 'SES configuration set outbound mail is sent with (bounces and complaints come back through it)',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.monitoring.topic.topicArn,
      description: 'SNS topic every alarm notifies (subscribe: aws sns subscribe --protocol email ...)',
    });
    new CfnOutput(this, 'BucketName', { value: this.storage.bucket.bucketName });
    for (const tableId of TABLE_IDS) {
      new CfnOutput(this, `Table${tableId[0].toUpperCase()}${tableId.slice(1)}Name`, {
        value: this.storage.tables[tableId].tableName,
      });
    }
    new CfnOutput(this, 'TlsSecretArn', {
      value: this.gateway.tlsSecret.secretArn,
      description: 'Secrets Manager secret holding {"cert","key"} PEM for the gateway',
    });

    acknowledgeNagFindings(this, { flowLogs: !flowLogs, containerInsights: !containerInsights });
  }

  /** Every Lambda of the stack: the mail-logic functions and those of the notifier, the renewal, the HTTPS front. */
  get allFunctions(): readonly nodejs.NodejsFunction[] {
    return [
      ...this.functions.all,
      this.notifier.fn,
      ...(this.certificates.renewal ? [this.certificates.renewal] : []),
      ...(this.dns ? [this.dns.front.fn] : []),
    ];
  }
}
