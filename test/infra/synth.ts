import { App, type CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { TABLE_IDS } from '../../lib/core/schema.ts';
import { PosternStack, type PosternStackProps } from '../../lib/infra/stack.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON is untyped.
export type Json = any;

/**
 * Synthesizes the stack with asset bundling switched off for every stack (no esbuild run, no Docker) and without
 * the built-in CloudFormation validation (about 7 s per synth; `cdk synth` still runs it). Asset metadata is on,
 * as under the CLI, so a test can see where each Lambda's code comes from.
 */
export function synth(props: PosternStackProps = {}): { stack: PosternStack; template: Template } {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { 'aws:cdk:bundling-stacks': [], 'aws:cdk:enable-asset-metadata': true },
  });
  const stack = new PosternStack(app, 'PosternTest', props);
  return { stack, template: Template.fromStack(stack) };
}

/** The logical id of a construct's CloudFormation resource (its default child, or itself). */
export function logicalIdOf(stack: PosternStack, construct: IConstruct): string {
  // resolved, not allocated: a resource may keep an older id (overrideLogicalId)
  return stack.resolve(((construct.node.defaultChild ?? construct) as CfnResource).logicalId);
}

/** One Allow statement of a role's inline policies, with each resource named after what it is. */
export interface Grant {
  readonly actions: readonly string[];
  /** `table:directory`, `bucket`, `bucket/messages/*`, `function:route`, `logs:route`, `secret`, `queue:...` */
  readonly on: string;
  readonly condition?: Json;
}

/** Names the stack's resources by what they are, so grants read `table:directory` instead of a logical id. */
function resourceNames(stack: PosternStack): Map<string, string> {
  const names = new Map<string, string>();
  for (const id of TABLE_IDS) names.set(logicalIdOf(stack, stack.storage.tables[id]), `table:${id}`);
  names.set(logicalIdOf(stack, stack.storage.bucket), 'bucket');
  for (const [name, fn] of Object.entries({
    route: stack.functions.route,
    filter: stack.functions.filter,
    store: stack.functions.store,
    deliver: stack.functions.deliver,
    sesFeedback: stack.functions.sesFeedback,
  })) {
    names.set(logicalIdOf(stack, fn), `function:${name}`);
    names.set(logicalIdOf(stack, fn.logGroup), `logs:${name}`);
  }
  names.set(logicalIdOf(stack, stack.gateway.tlsSecret), 'secret');
  const { renewal, accountSecret } = stack.certificates;
  if (renewal) names.set(logicalIdOf(stack, renewal), 'function:certRenew');
  if (accountSecret) names.set(logicalIdOf(stack, accountSecret), 'secret:acme-account');
  names.set(logicalIdOf(stack, stack.sesFeedback.failed), 'queue:ses-feedback-failed');
  names.set(logicalIdOf(stack, stack.sesFeedback.configurationSet), 'ses-configuration-set');
  return names;
}

function nameOf(resource: Json, names: Map<string, string>): string {
  if (typeof resource === 'string') return resource;
  const target = resource['Fn::GetAtt']?.[0] ?? resource.Ref;
  if (typeof target === 'string' && target.startsWith('AWS::')) return `\${${target}}`;
  if (target !== undefined) return names.get(target) ?? `other:${target}`;
  const join = resource['Fn::Join'];
  if (join && join[0] === '') return join[1].map((part: Json) => nameOf(part, names)).join('');
  return JSON.stringify(resource);
}

/** Every statement attached to the role by the stack's AWS::IAM::Policy resources, one Grant per resource. */
export function grantsOf(stack: PosternStack, template: Template, roleLogicalId: string): Grant[] {
  const names = resourceNames(stack);
  const grants: Grant[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles: Json[] = policy.Properties.Roles ?? [];
    if (!roles.some((r) => r.Ref === roleLogicalId)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      if (statement.Effect !== 'Allow') throw new Error(`unexpected ${statement.Effect} statement`);
      const actions = [statement.Action].flat().sort();
      for (const resource of [statement.Resource].flat()) {
        grants.push({ actions, on: nameOf(resource, names), condition: statement.Condition });
      }
    }
  }
  return grants;
}

/** The unconditional grants as resource -> sorted actions (statements on the same resource merged). */
export function unconditionalAccess(grants: readonly Grant[]): Record<string, string[]> {
  const access: Record<string, Set<string>> = {};
  for (const grant of grants.filter((g) => g.condition === undefined)) {
    access[grant.on] ??= new Set();
    for (const action of grant.actions) access[grant.on].add(action);
  }
  return Object.fromEntries(
    Object.entries(access)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([on, actions]) => [on, [...actions].sort()]),
  );
}
