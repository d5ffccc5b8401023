import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { GatewayService } from './gateway-service.ts';
import { GATEWAY_PORTS } from './ports.ts';

export interface LoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly gateway: GatewayService;
}

/**
 * The internet-facing NLB with one Elastic IP per AZ (stable addresses for MX, SPF and PTR). One TCP listener per
 * mail port, each forwarding to its own IP target group with PROXY protocol v2, so the gateway learns the client's
 * address, and a TCP health check.
 */
export class LoadBalancer extends Construct {
  readonly nlb: elbv2.NetworkLoadBalancer;
  readonly elasticIps: readonly ec2.CfnEIP[];
  readonly listeners: readonly elbv2.NetworkListener[];

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const { vpc, gateway } = props;
    const subnets = vpc.publicSubnets;

    this.elasticIps = subnets.map((_, i) => new ec2.CfnEIP(this, `Eip${i + 1}`, { domain: 'vpc' }));

    this.nlb = new elbv2.NetworkLoadBalancer(this, 'Nlb', {
      vpc,
      internetFacing: true,
      crossZoneEnabled: true,
      subnetMappings: subnets.map((subnet, i) => ({ subnet, allocationId: this.elasticIps[i].attrAllocationId })),
    });

    this.listeners = GATEWAY_PORTS.map((p) => {
      const listener = this.nlb.addListener(p.name, {
        port: p.port,
        protocol: elbv2.Protocol.TCP,
        tcpIdleTimeout: p.idleTimeout,
      });
      listener.addTargets(`${p.name}Targets`, {
        port: p.port,
        protocol: elbv2.Protocol.TCP,
        proxyProtocolV2: true,
        deregistrationDelay: Duration.seconds(60),
        targets: [
          gateway.service.loadBalancerTarget({ containerName: gateway.container.containerName, containerPort: p.port }),
        ],
        healthCheck: {
          protocol: elbv2.Protocol.TCP,
          interval: Duration.seconds(30),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      });
      return listener;
    });
  }
}
