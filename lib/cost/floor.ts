import { HOURS_PER_MONTH, monthly, PRICES } from './prices.ts';
import { IDLE_SWEEP, LAMBDA_PLATFORM_LOG_BYTES, type Operation, priceOperation } from './requests.ts';
import type { CfnTemplate } from './synth.ts';

/** One line of a cost table: what it is, how many, and dollars a month (or per the unit the table states). */
export interface CostLine {
  readonly item: string;
  readonly quantity: string;
  readonly usd: number;
}

type Resource = CfnTemplate['Resources'][string];
type Resources = CfnTemplate['Resources'];

function ofType(resources: Resources, type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON is untyped.
function referenced(resources: Resources, ref: any): Resource | undefined {
  const id = ref?.Ref ?? ref?.['Fn::GetAtt']?.[0];
  return typeof id === 'string' ? resources[id] : undefined;
}

const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;

/** Runs a month of a schedule expression (rate(...) only: the stack has no cron schedules). */
export function runsPerMonth(expression: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!rate) throw new Error(`cannot price schedule ${expression}`);
  const minutes = { minute: 1, minutes: 1, hour: 60, hours: 60, day: 1440, days: 1440 }[rate[2]]!;
  return MINUTES_PER_MONTH / (Number(rate[1]) * minutes);
}

/** The gateway tasks: each running all month at its task definition's size, plus its public IPv4 address. */
function fargateLines(resources: Resources): CostLine[] {
  const lines: CostLine[] = [];
  for (const [id, service] of ofType(resources, 'AWS::ECS::Service')) {
    const count = Number(service.Properties.DesiredCount ?? 1);
    const task = referenced(resources, service.Properties.TaskDefinition);
    if (!task) throw new Error(`${id}: task definition not found`);
    const vcpu = Number(task.Properties.Cpu) / 1024;
    const gb = Number(task.Properties.Memory) / 1024;
    const arm = task.Properties.RuntimePlatform?.CpuArchitecture === 'ARM64';
    const [cpuPrice, gbPrice] = arm
      ? (['fargateVcpuHourArm', 'fargateGbHourArm'] as const)
      : (['fargateVcpuHourX86', 'fargateGbHourX86'] as const);
    lines.push({
      item: `Fargate tasks (${arm ? 'ARM64' : 'x86'})`,
      quantity: `${count} × ${vcpu} vCPU, ${gb} GB`,
      usd: count * (monthly(cpuPrice, vcpu) + monthly(gbPrice, gb)),
    });
    if (service.Properties.NetworkConfiguration?.AwsvpcConfiguration?.AssignPublicIp === 'ENABLED') {
      lines.push({ item: 'Public IPv4 of the tasks', quantity: `${count}`, usd: monthly('publicIpv4Hour', count) });
    }
  }
  return lines;
}

/** Resources billed by the hour or the month whatever the traffic, one line per kind present. */
function fixedLines(resources: Resources): CostLine[] {
  const nlbs = ofType(resources, 'AWS::ElasticLoadBalancingV2::LoadBalancer').filter(
    ([, r]) => r.Properties.Type === 'network',
  ).length;
  const counted: [string, number, number][] = [
    ['Network Load Balancer (hours; NLCUs are per traffic)', nlbs, monthly('nlbHour')],
    ['Elastic IPs (the NLB, one per AZ)', ofType(resources, 'AWS::EC2::EIP').length, monthly('publicIpv4Hour')],
    ['NAT gateways', ofType(resources, 'AWS::EC2::NatGateway').length, monthly('natGatewayHour')],
    ['Secrets Manager secrets', ofType(resources, 'AWS::SecretsManager::Secret').length, PRICES.secret.usd],
    ['CloudWatch alarms', ofType(resources, 'AWS::CloudWatch::Alarm').length, PRICES.alarm.usd],
    ['CloudWatch dashboards', ofType(resources, 'AWS::CloudWatch::Dashboard').length, PRICES.dashboard.usd],
    ['KMS keys', ofType(resources, 'AWS::KMS::Key').length, PRICES.kmsKey.usd],
    ['Route 53 hosted zones', ofType(resources, 'AWS::Route53::HostedZone').length, PRICES.route53HostedZone.usd],
  ];
  return counted.filter(([, n]) => n > 0).map(([item, n, each]) => ({ item, quantity: `${n}`, usd: n * each }));
}

/**
 * Scheduled rules: each run of a Lambda target is a request, its duration, its platform log lines and what the
 * run does when there is nothing to do (IDLE_SWEEP: the deliver sweep's one Query).
 */
function scheduleLines(resources: Resources): CostLine[] {
  const lines: CostLine[] = [];
  for (const [id, rule] of ofType(resources, 'AWS::Events::Rule')) {
    const expression = rule.Properties.ScheduleExpression;
    if (!expression) continue;
    const runs = runsPerMonth(expression);
    for (const target of rule.Properties.Targets ?? []) {
      const fn = referenced(resources, target.Arn);
      if (fn?.Type !== 'AWS::Lambda::Function') throw new Error(`${id}: cannot price a target that is not a Lambda`);
      const idle: Operation = {
        ...IDLE_SWEEP,
        lambda: IDLE_SWEEP.lambda.map((run) => ({
          ...run,
          memoryMb: Number(fn.Properties.MemorySize ?? 128),
          arm: (fn.Properties.Architectures ?? []).includes('arm64'),
        })),
      };
      lines.push({
        item: `Schedule ${expression}: idle Lambda runs (${IDLE_SWEEP.lambda[0].ms} ms, 1 Query)`,
        quantity: `${runs}`,
        usd: priceOperation(idle).total * runs + (runs * LAMBDA_PLATFORM_LOG_BYTES * PRICES.logIngestionGb.usd) / 1e9,
      });
    }
  }
  return lines;
}

/** The monthly floor: everything the template bills whether or not any mail moves. */
export function floorOf(template: CfnTemplate): CostLine[] {
  const resources = template.Resources;
  return [...fargateLines(resources), ...fixedLines(resources), ...scheduleLines(resources)];
}

export function totalOf(lines: readonly CostLine[]): number {
  return lines.reduce((sum, line) => sum + line.usd, 0);
}
