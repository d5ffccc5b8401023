import { CfnOutput, Fn } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import type { ClientSetupSettings } from '../clientSetup/http.ts';
import { DEFAULT_CAA_ISSUERS, type DnsRecord, mailDomainRecords, zoneData } from '../clientSetup/records.ts';
import { ClientSetupFront } from './clientSetup.ts';
import type { Protection } from './protection.ts';

export interface MailDomainDnsProps {
  /** The hosted zone, named without a lookup (synth stays offline); its name is the mail domain. */
  readonly hostedZoneId: string;
  readonly zoneName: string;
  readonly hostname: string;
  readonly elasticIps: readonly ec2.CfnEIP[];
  readonly mtaSts: ClientSetupSettings['mtaSts'];
  readonly protection: Protection;
}

/**
 * The mail domain in Route 53: every record of lib/clientSetup/records.ts (MX, A on the Elastic IPs, SPF for
 * SES, DMARC, MTA-STS, TLS-RPT, SRV, CAA), the SES identity of the domain with its Easy DKIM CNAMEs (SES sends
 * only from a verified identity), and the HTTPS front (mta-sts, autoconfig, autodiscover).
 *
 * Not here: Postern's own DKIM selectors (their keys are made by `admin domain add` / `dkim rotate` in Secrets
 * Manager after the deploy, which write their TXT records into the zone: lib/admin/dkimDns.ts), AAAA (the VPC and the NLB are IPv4 only) and PTR (EC2
 * reverse DNS of each Elastic IP; see the ReverseDnsCommands output).
 */
export class MailDomainDns extends Construct {
  readonly records: readonly DnsRecord[];
  readonly sesIdentity: ses.EmailIdentity;
  readonly front: ClientSetupFront;

  constructor(scope: Construct, id: string, props: MailDomainDnsProps) {
    super(scope, id);
    const zone = route53.PublicHostedZone.fromPublicHostedZoneAttributes(this, 'Zone', {
      hostedZoneId: props.hostedZoneId,
      zoneName: props.zoneName,
    });
    const domain = props.zoneName.replace(/\.$/, '').toLowerCase();
    this.records = mailDomainRecords({
      domain,
      host: props.hostname,
      ipv4: props.elasticIps.map((eip) => eip.attrPublicIp),
      ipv6: [],
      // deliver sends through SES; the Elastic IPs are the NLB's, inbound only.
      outbound: { ses: true, fromHost: false },
      dkimKeys: [],
      mtaSts: props.mtaSts,
      caaIssuers: DEFAULT_CAA_ISSUERS,
    });
    publishRecords(this, zone, this.records);
    this.sesIdentity = new ses.EmailIdentity(this, 'SesIdentity', { identity: ses.Identity.publicHostedZone(zone) });
    this.front = new ClientSetupFront(this, 'ClientSetup', {
      zone,
      settings: { domain, host: props.hostname, mtaSts: props.mtaSts },
      protection: props.protection,
    });
  }
}

/** One Route 53 record set per owner name and type, its values in zone-file form (as Route 53 takes them). */
function publishRecords(scope: Construct, zone: route53.IHostedZone, records: readonly DnsRecord[]): void {
  const sets = new Map<string, { name: string; type: DnsRecord['type']; values: string[] }>();
  for (const record of records) {
    const key = `${record.type} ${record.name}`;
    const set = sets.get(key) ?? { name: record.name, type: record.type, values: [] };
    set.values.push(...zoneData(record));
    sets.set(key, set);
  }
  for (const [key, set] of sets) {
    new route53.RecordSet(scope, key, {
      zone,
      recordName: set.name,
      recordType: route53.RecordType[set.type],
      target: route53.RecordTarget.fromValues(...set.values),
    });
  }
}

/**
 * PTR: EC2 sets the reverse DNS of an Elastic IP once its forward record resolves to it (there is no
 * CloudFormation property for it), so the stack prints the commands that request it.
 */
export function reverseDnsOutput(scope: Construct, elasticIps: readonly ec2.CfnEIP[], hostname: string): CfnOutput {
  return new CfnOutput(scope, 'ReverseDnsCommands', {
    value: Fn.join(
      ' ; ',
      elasticIps.map((eip) =>
        Fn.join('', [
          'aws ec2 modify-address-attribute --allocation-id ',
          eip.attrAllocationId,
          ` --domain-name ${hostname}`,
        ]),
      ),
    ),
    description: `PTR: run these once ${hostname} resolves to the Elastic IPs (reverse DNS of each to ${hostname})`,
  });
}
