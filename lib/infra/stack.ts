import { CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { TABLE_IDS } from '../core/schema.ts';
import { type AcmeOptions, Certificates } from './certificates.ts';
import { DnsRecords } from './dns.ts';
import { Functions } from './functions.ts';
import { GatewayService } from './gateway-service.ts';
import { LoadBalancer } from './load-balancer.ts';
import { Network } from './network.ts';
import { SesFeedback } from './ses-feedback.ts';
import { Storage } from './storage.ts';

export interface PosternStackProps extends StackProps {
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
  /** Optional Route 53 zone for the A and MX records (no lookup: both id and name must be given). */
  readonly hostedZone?: { readonly hostedZoneId: string; readonly zoneName: string };
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
  readonly certificates: Certificates;
  readonly sesFeedback: SesFeedback;
  readonly gateway: GatewayService;
  readonly loadBalancer: LoadBalancer;

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
    this.certificates = new Certificates(this, 'Certificates', {
      hostname,
      tlsSecretArn: props.tlsSecretArn,
      hostedZone: props.hostedZone,
      acme: props.acme,
      logRetention,
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
      logRetention,
    });
    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', { vpc: this.network.vpc, gateway: this.gateway });

    if (props.hostedZone) {
      new DnsRecords(this, 'Dns', { ...props.hostedZone, hostname, elasticIps: this.loadBalancer.elasticIps });
    }

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
