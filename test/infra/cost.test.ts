/**
 * `npm run cost`'s floor follows the synthesized template: changing a stack setting changes the lines it
 * prices. And the stack settings for the cheaper shapes do what they say in the template.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CostLine, floorOf, totalOf } from '../../lib/cost/floor.ts';
import { CHEAPEST, report } from '../../lib/cost/main.ts';
import { monthly } from '../../lib/cost/prices.ts';
import { INBOUND_DELIVERY, OUTBOUND_MESSAGE } from '../../lib/cost/requests.ts';
import { type CfnTemplate, synthTemplate } from '../../lib/cost/synth.ts';
import { lambdaSizes } from '../../lib/cost/variable.ts';

const base = synthTemplate();
const twoTasks = synthTemplate({ desiredCount: 2, cpu: 512, memoryLimitMiB: 1024 });
const oneAz = synthTemplate(CHEAPEST);

const line = (lines: readonly CostLine[], start: string) => lines.find((l) => l.item.startsWith(start));
const resources = (t: CfnTemplate, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);

describe('cost: the monthly floor walks the template', () => {
  it('default: one 0.25 vCPU / 0.5 GB ARM64 task, its public IP, the NLB, two EIPs, two secrets, the alarms, the sweep', () => {
    const floor = floorOf(base);
    assert.deepEqual(
      floor.map((l) => [l.item.split(' (')[0], l.quantity]),
      [
        ['Fargate tasks', '1 × 0.25 vCPU, 0.5 GB'],
        ['Public IPv4 of the tasks', '1'],
        ['Network Load Balancer', '1'],
        ['Elastic IPs', '2'],
        ['Secrets Manager secrets', '2'],
        ['CloudWatch alarms', '17'],
        ['CloudWatch dashboards', '1'],
        ['KMS keys', '1'],
        ['Schedule rate(1 minute): idle Lambda runs', '43800'],
      ],
    );
    assert.ok(!line(floor, 'NAT'), 'no NAT gateway');
    assert.ok(line(floor, 'Fargate tasks (ARM64)'));
  });

  it('desiredCount and task size change the Fargate and task-IP lines by as much', () => {
    const before = floorOf(base);
    const after = floorOf(twoTasks);
    assert.equal(line(after, 'Fargate')!.quantity, '2 × 0.5 vCPU, 1 GB');
    assert.ok(Math.abs(line(after, 'Fargate')!.usd - 4 * line(before, 'Fargate')!.usd) < 1e-9);
    assert.equal(line(after, 'Public IPv4 of the tasks')!.usd, monthly('publicIpv4Hour', 2));
  });

  it('azs=1: one public subnet, an NLB in one subnet with one EIP, the floor one address lower', () => {
    assert.equal(resources(oneAz, 'AWS::EC2::Subnet').length, 1);
    assert.equal(resources(oneAz, 'AWS::EC2::EIP').length, 1);
    const [nlb] = resources(oneAz, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    assert.equal(nlb.Properties.SubnetMappings.length, 1);
    assert.equal(resources(base, 'AWS::EC2::Subnet').length, 2);
    const saved = totalOf(floorOf(base)) - totalOf(floorOf(oneAz));
    assert.ok(Math.abs(saved - monthly('publicIpv4Hour')) < 1e-9, `saved ${saved}`);
  });

  it("the Lambda sizes the model prices are the template's, for every function it runs", () => {
    const sizes = lambdaSizes(base);
    assert.deepEqual([...sizes.keys()].sort(), ['deliver', 'filter', 'route', 'sesFeedback', 'store']);
    for (const run of [...INBOUND_DELIVERY.lambda, ...OUTBOUND_MESSAGE.lambda]) {
      assert.deepEqual({ memoryMb: run.memoryMb, arm: run.arm }, sizes.get(run.fn), run.fn);
    }
  });

  it('the report prints each table with a total', () => {
    const text = report({});
    for (const title of [
      'Monthly floor, default shape',
      'Monthly floor, cheapest shape',
      'Per million inbound',
      'Per million outbound',
      'Per GB stored',
      'Per 1,000 idle IMAP clients',
    ]) {
      assert.match(text, new RegExp(`${title}[^]*?total\\s+\\$\\d`));
    }
  });
});
