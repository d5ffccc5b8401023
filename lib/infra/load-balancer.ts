import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import type { GatewayService } from './gateway-service.ts';
import { GATEWAY_PORTS } from './ports.ts';
import type { Protection } from './protection.ts';

export interface LoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly gateway: GatewayService;
  readonly protection: Protection;
}

/**
 * The internet-facing NLB with one Elastic IP per AZ (stable addresses for MX, SPF and PTR). One TCP listener per
 * mail port, each forwarding to its own IP target group on the container's unprivileged port, with PROXY
 * protocol v2, so the gateway learns the client's address, and a TCP health check on that port.
 *
 * The NLB has its own security group: open to anyone on the listener ports (an MX must be), and the only source
 * the tasks' security group admits. Any other host, in the VPC or not, could otherwise send a PROXY header
 * claiming any client address.
 *
 * The Elastic IPs outlive the stack by default (Protection): they are the MX's and the PTR records' addresses,
 * and other servers' reputation data is keyed on them. The NLB has deletion protection by default.
 */
export class LoadBalancer extends Construct {
  readonly nlb: elbv2.NetworkLoadBalancer;
  readonly securityGroup: ec2.SecurityGroup;
  readonly elasticIps: readonly ec2.CfnEIP[];
  readonly listeners: readonly elbv2.NetworkListener[];

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const { vpc, gateway } = props;
    const subnets = vpc.publicSubnets;

    this.elasticIps = subnets.map((_, i) => {
      const eip = new ec2.CfnEIP(this, `Eip${i + 1}`, { domain: 'vpc' });
      eip.applyRemovalPolicy(props.protection.removalPolicy);
      return eip;
    });

    this.securityGroup = new ec2.SecurityGroup(this, 'NlbSecurityGroup', {
      vpc,
      description: 'Postern NLB: mail ports from anywhere, out to the gateway tasks only',
      allowAllOutbound: false,
    });

    this.nlb = new elbv2.NetworkLoadBalancer(this, 'Nlb', {
      vpc,
      internetFacing: true,
      crossZoneEnabled: true,
      deletionProtection: props.protection.deletionProtection,
      securityGroups: [this.securityGroup],
      subnetMappings: subnets.map((subnet, i) => ({ subnet, allocationId: this.elasticIps[i].attrAllocationId })),
    });

    this.listeners = GATEWAY_PORTS.map((p) => {
      this.securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(p.listenerPort), `${p.name} from anywhere`);
      // Egress on the NLB's group and ingress on the tasks' group, for traffic and health checks alike.
      this.securityGroup.connections.allowTo(
        gateway.securityGroup,
        ec2.Port.tcp(p.containerPort),
        `${p.name} to the gateway`,
      );
      const listener = this.nlb.addListener(p.name, {
        port: p.listenerPort,
        protocol: elbv2.Protocol.TCP,
        tcpIdleTimeout: p.idleTimeout,
      });
      listener.addTargets(`${p.name}Targets`, {
        port: p.containerPort,
        protocol: elbv2.Protocol.TCP,
        proxyProtocolV2: true,
        // The client address travels in the PROXY header; the tasks see the NLB as the source.
        preserveClientIp: false,
        deregistrationDelay: Duration.seconds(60),
        targets: [
          gateway.service.loadBalancerTarget({
            containerName: gateway.container.containerName,
            containerPort: p.containerPort,
          }),
        ],
        healthCheck: {
          protocol: elbv2.Protocol.TCP,
          port: String(p.containerPort),
          interval: Duration.seconds(30),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      });
      return listener;
    });
  }
}
