/**
 * cdk-nag's AwsSolutions pack over the synthesized stack, in each shape the stack's props (and app.ts's
 * context) can give it. Any finding not acknowledged in lib/infra/nagAcknowledgements.ts fails the test,
 * listed as `construct path  rule id  what the rule asks`, so a new construct's findings are quick to fix
 * (or to acknowledge there, on that construct, with the reason).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import type { PosternStack, PosternStackProps } from '../../lib/infra/stack.ts';
import { synth } from './synth.ts';

const TLS_COMPLETE_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:postern/tls-AbCdEf';
const TLS_PARTIAL_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:postern/tls';
const ZONE = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.org' };
const ENV = { env: { account: '111122223333', region: 'eu-west-1' }, availabilityZones: ['eu-west-1a', 'eu-west-1b'] };
const THROWAWAY: PosternStackProps = {
  retainOnDelete: false,
  deletionProtection: false,
  flowLogs: false,
  containerInsights: false,
};

/** Every option varies at least once, and the ones that add or drop resources (zone, TLS secret) together. */
const SHAPES: Record<string, PosternStackProps> = {
  defaults: {},
  'hosted zone, existing TLS secret (complete ARN), 2 tasks': {
    hostedZone: ZONE,
    tlsSecretArn: TLS_COMPLETE_ARN,
    desiredCount: 2,
    hostname: 'mx.example.org',
  },
  'explicit account and region, existing TLS secret (partial ARN)': { ...ENV, tlsSecretArn: TLS_PARTIAL_ARN },
  'explicit account and region, hosted zone (ACME)': { ...ENV, hostedZone: ZONE, hostname: 'mx.example.org' },
  'throwaway: nothing retained or protected, no flow log, no Container Insights': THROWAWAY,
  'throwaway with a hosted zone and an existing TLS secret': {
    ...THROWAWAY,
    hostedZone: ZONE,
    tlsSecretArn: TLS_COMPLETE_ARN,
    hostname: 'mx.example.org',
  },
};

interface Finding {
  readonly path: string;
  readonly rule: string;
  readonly severity: string;
  readonly description: string;
}

/** Runs the pack over the synthesized stack; `ignoreAcknowledgements` lists what it would report without them. */
function findings(stack: PosternStack, ignoreAcknowledgements = false): Finding[] {
  const pack = new AwsSolutionsChecks();
  // isAcknowledged is private to NagPack; replaced here only to list the raw findings.
  if (ignoreAcknowledgements) Object.assign(pack, { isAcknowledged: () => false });
  return pack.validateScope(stack).violations.flatMap((v) =>
    v.violatingResources.map((r) => ({
      path: r.constructPath ?? '(no construct path)',
      rule: v.ruleName,
      severity: v.severity ?? 'error',
      description: v.description,
    })),
  );
}

function report(list: readonly Finding[]): string {
  return list.map((f) => `  ${f.path}  ${f.rule}  (${f.severity}: ${f.description})`).join('\n');
}

/** Each acknowledgement in the tree: the construct it sits on and the rule id. */
function acknowledgements(root: IConstruct): { path: string; rule: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([rule, reason]) => ({
          path: construct.node.path,
          rule: rule.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  for (const [shape, props] of Object.entries(SHAPES)) {
    it(`no unacknowledged error or warning: ${shape}`, () => {
      const { stack } = synth(props);
      const open = findings(stack);
      assert.equal(open.length, 0, `unacknowledged cdk-nag findings (${shape}):\n${report(open)}`);
    });

    it(`every acknowledgement answers a finding on its own construct, with a reason: ${shape}`, () => {
      const { stack } = synth(props);
      const raw = findings(stack, true);
      // Only cdk-nag's: CDK's own validation acknowledges some of its rules on the stack.
      const acks = acknowledgements(stack).filter((ack) => ack.rule.startsWith('AwsSolutions-'));
      assert.ok(acks.length > 0);
      for (const ack of acks) {
        assert.ok(ack.reason.length >= 40, `${ack.path} ${ack.rule}: say why`);
        const answered = raw.some(
          (f) => f.rule === ack.rule && (f.path === ack.path || f.path.startsWith(`${ack.path}/`)),
        );
        assert.ok(answered, `stale acknowledgement: ${ack.path} ${ack.rule}`);
      }
      assert.ok(
        !acks.some((ack) => ack.path === stack.node.path),
        'no acknowledgement on the whole stack (put it on the construct)',
      );
    });
  }
});
