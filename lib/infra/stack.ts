import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { MtaStsMode } from '../clientSetup/mtaSts.ts';
import { DEFAULT_MTA_STS_MAX_AGE } from '../clientSetup/mtaSts.ts';
import { TABLE_IDS } from '../core/schema.ts';
import { MailDomainDns, reverseDnsOutput } from './dns.ts';
import { Functions } from './functions.ts';
import { GatewayService } from './gateway-service.ts';
import { LoadBalancer } from './load-balancer.ts';
import { Network } from './network.ts';
import { SesFeedback } from './ses-feedback.ts';
import { Storage } from './storage.ts';

export interface PosternStackProps extends StackProps {
  /** The gateway's public host name (SMTP banner, EHLO, MX target). Default 'mail.example.com'. */
  readonly hostname?: string;
  /** An existing Secrets Manager secret (TLS cert chain + key). Default: a placeholder secret is created. */
  readonly tlsSecretArn?: string;
  /** Number of gateway tasks. Default 1. */
  readonly desiredCount?: number;
  /** Fargate task size. Default 256 CPU units, 512 MiB. */
  readonly cpu?: number;
  readonly memoryLimitMiB?: number;
  /** Explicit AZs; needed only when the stack has a concrete account and region (avoids an AZ lookup). */
  readonly availabilityZones?: string[];
  /**
   * Optional Route 53 zone of the mail domain (no lookup: both id and name must be given): every DNS record,
   * the SES identity and the HTTPS front for MTA-STS, autoconfig and autodiscover (lib/infra/dns.ts).
   */
  readonly hostedZone?: { readonly hostedZoneId: string; readonly zoneName: string };
  /** MTA-STS policy mode (RFC 8461). Default 'testing'; 'enforce' once the gateway has a CA-signed certificate. */
  readonly mtaStsMode?: MtaStsMode;
  /** Log retention for the gateway and the functions. Default one month. */
  readonly logRetention?: logs.RetentionDays;
}

export const DEFAULT_HOSTNAME = 'mail.example.com';

/**
 * The whole deployment: network, storage, mail-logic functions, SES feedback, the gateway service and its load
 * balancer.
 */
export class PosternStack extends Stack {
  readonly network: Network;
  readonly storage: Storage;
  readonly functions: Functions;
  readonly sesFeedback: SesFeedback;
  readonly gateway: GatewayService;
  readonly loadBalancer: LoadBalancer;
  readonly dns?: MailDomainDns;

  constructor(scope: Construct, id: string, props: PosternStackProps = {}) {
    super(scope, id, props);
    const hostname = props.hostname ?? DEFAULT_HOSTNAME;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    this.network = new Network(this, 'Network', { availabilityZones: props.availabilityZones });
    this.storage = new Storage(this, 'Storage');
    this.functions = new Functions(this, 'Functions', { storage: this.storage, hostname, logRetention });
    this.sesFeedback = new SesFeedback(this, 'SesFeedback', {
      deliver: this.functions.deliver,
      sesFeedback: this.functions.sesFeedback,
    });
    this.gateway = new GatewayService(this, 'Gateway', {
      vpc: this.network.vpc,
      storage: this.storage,
      functions: this.functions,
      hostname,
      tlsSecretArn: props.tlsSecretArn,
      desiredCount: props.desiredCount ?? 1,
      cpu: props.cpu ?? 256,
      memoryLimitMiB: props.memoryLimitMiB ?? 512,
      logRetention,
    });
    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', { vpc: this.network.vpc, gateway: this.gateway });

    if (props.hostedZone) {
      this.dns = new MailDomainDns(this, 'Dns', {
        ...props.hostedZone,
        hostname,
        elasticIps: this.loadBalancer.elasticIps,
        mtaSts: { mode: props.mtaStsMode ?? 'testing', maxAgeSeconds: DEFAULT_MTA_STS_MAX_AGE },
        logRetention,
      });
    }
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
  }
}
