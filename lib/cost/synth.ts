import { App } from 'aws-cdk-lib';
import { PosternStack, type PosternStackProps } from '../infra/stack.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON is untyped.
export type CfnTemplate = { Resources: Record<string, { Type: string; Properties?: any }> };

/**
 * The stack's CloudFormation template, made offline as test/infra/synth.ts makes it: no lookups, no esbuild,
 * no Docker (asset bundling off), no built-in validation. What is priced is exactly what `cdk synth` emits
 * for the same settings.
 */
export function synthTemplate(props: PosternStackProps = {}): CfnTemplate {
  const app = new App({ builtinCloudFormationValidation: false, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new PosternStack(app, 'PosternCost', props);
  return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
}
