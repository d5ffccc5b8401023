import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';

export interface DnsRecordsProps {
  /** The hosted zone, named without a lookup (synth stays offline). */
  readonly hostedZoneId: string;
  readonly zoneName: string;
  readonly hostname: string;
  readonly elasticIps: readonly ec2.CfnEIP[];
}

/**
 * Optional Route 53 records: the gateway host name's A record on the Elastic IPs and the zone's MX record.
 * PTR records for the Elastic IPs are set with EC2 (reverse DNS of the EIP), not here.
 */
export class DnsRecords extends Construct {
  constructor(scope: Construct, id: string, props: DnsRecordsProps) {
    super(scope, id);
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: props.hostedZoneId,
      zoneName: props.zoneName,
    });
    new route53.ARecord(this, 'Host', {
      zone,
      recordName: `${props.hostname}.`,
      target: route53.RecordTarget.fromIpAddresses(...props.elasticIps.map((eip) => eip.attrPublicIp)),
    });
    new route53.MxRecord(this, 'Mx', {
      zone,
      values: [{ priority: 10, hostName: props.hostname }],
    });
  }
}
