import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { ownedLogGroup, type Protection } from './protection.ts';

export interface NetworkProps {
  /**
   * Availability zones to use. Leave unset for an environment-agnostic stack (CloudFormation picks two AZs with
   * Fn::GetAZs); set it when the stack has an explicit account and region, so synth never needs an AZ lookup.
   */
  readonly availabilityZones?: string[];
  /** A VPC flow log of all traffic (accepted and rejected) to CloudWatch Logs. */
  readonly flowLogs: boolean;
  readonly protection: Protection;
  /**
   * How many AZs an environment-agnostic stack spans (default 2). 1 is the cheapest shape: one Elastic IP less,
   * but an outage of that AZ stops mail until it is back (senders retry for days; clients cannot connect).
   */
  readonly maxAzs?: number;
}

/**
 * The VPC: public subnets only and no NAT gateway (the monthly floor stays low). Tasks run in the public
 * subnets behind a security group; S3 and DynamoDB traffic goes through the free gateway endpoints. The flow
 * log (on by default) records who connected to what, for abuse reports and incident review.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ...(props.availabilityZones ? { availabilityZones: props.availabilityZones } : { maxAzs: props.maxAzs ?? 2 }),
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    if (props.flowLogs) {
      this.vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(ownedLogGroup(this, 'FlowLogs', props.protection)),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
    }
  }
}
