import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { PRESENCE_PARTITION, TABLE_ENV } from '../core/schema.ts';
import { type ComponentAccess, grantAccess } from './access.ts';
import { postFunction } from './functions.ts';
import type { GatewayService } from './gateway-service.ts';
import { acknowledgeStreamListGrant } from './nagAcknowledgements.ts';
import type { Protection } from './protection.ts';
import type { Storage } from './storage.ts';

/** The UDP port of each gateway task's notice listener (lib/storage/changeFeedUdp.ts). */
export const NOTIFY_PORT = 2600;

/**
 * notify (functions/notify): reads the gateways' presence records, one Query of the PRESENCE partition of the
 * leases table per batch (DynamoPresenceStore.live) and nothing else; the stream read is granted by its event
 * source.
 */
export const NOTIFY_ACCESS: ComponentAccess = {
  tables: [
    {
      table: 'leases',
      actions: ['Query'],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [PRESENCE_PARTITION] } },
    },
  ],
  messageObjects: [],
  listBucket: false,
};

export interface NotifierProps {
  readonly vpc: ec2.IVpc;
  readonly storage: Storage;
  readonly gateway: GatewayService;
  readonly protection: Protection;
}

/**
 * Push across tasks: the changes table's stream → the notify Lambda in the VPC (no batching window) → a UDP
 * notice to each live gateway task's private address. The tasks admit that port from the function's security
 * group only; the function may send only there and to DynamoDB (HTTPS, through the VPC's gateway endpoint: its
 * ENIs have no public address, so nothing else is reachable anyway).
 */
export class Notifier extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NotifierProps) {
    super(scope, id);
    const { vpc, storage, gateway } = props;

    this.securityGroup = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc,
      description: 'Postern notify function: UDP notices to the gateway tasks, HTTPS to DynamoDB',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(gateway.securityGroup, ec2.Port.udp(NOTIFY_PORT), 'change notices');
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'DynamoDB (gateway endpoint)');
    gateway.securityGroup.addIngressRule(this.securityGroup, ec2.Port.udp(NOTIFY_PORT), 'change notices from notify');

    this.fn = postFunction(this, 'Notify', {
      protection: props.protection,
      memorySize: 128,
      timeout: Duration.seconds(10),
      environment: { NODE_OPTIONS: '--enable-source-maps', [TABLE_ENV.leases]: storage.tables.leases.tableName },
      network: {
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
        allowPublicSubnet: true,
        securityGroups: [this.securityGroup],
      },
    });
    grantAccess(this.fn, storage, NOTIFY_ACCESS);
    this.fn.addEventSource(
      new DynamoEventSource(storage.tables.changes, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(0),
        // a notice is a hint: an old or failing batch is dropped, the tasks' backstop catches up
        retryAttempts: 2,
        maxRecordAge: Duration.minutes(1),
        parallelizationFactor: 1,
      }),
    );
    acknowledgeStreamListGrant(this.fn);

    gateway.container.addEnvironment('POSTERN_NOTIFY', 'cross-task');
    gateway.container.addEnvironment('POSTERN_NOTIFY_HOST', '0.0.0.0');
    gateway.container.addEnvironment('POSTERN_NOTIFY_PORT', String(NOTIFY_PORT));
  }
}
