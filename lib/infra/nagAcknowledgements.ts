import { type CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IConstruct } from 'constructs';
import type { PosternStack } from './stack.ts';
import type { Storage } from './storage.ts';

/**
 * Every cdk-nag AwsSolutions finding the stack accepts, each on the narrowest construct, with why
 * (test/infra/nag.test.ts fails on any other). A rule that reports one finding per resource ARN
 * (IAM5) is acknowledged for that ARN only.
 */

function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id: `AwsSolutions-${id}`, reason });
}

/** How cdk-nag writes a CloudFormation attribute in a finding: `<LogicalId.Attribute>`. */
function attributeOf(construct: IConstruct, attribute: string): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return `<${Stack.of(construct).getLogicalId(element)}.${attribute}>`;
}

/** An ARN of the stack's own partition, region and account, as cdk-nag writes it (pseudo parameters as `<AWS::Region>`). */
function inThisAccount(scope: IConstruct, service: string, resource: string): string {
  const stack = Stack.of(scope);
  const literal = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  const partition = literal(stack.partition, 'Partition');
  return `arn:${partition}:${service}:${literal(stack.region, 'Region')}:${literal(stack.account, 'AccountId')}:${resource}`;
}

/** The role a grant went to, when it is a construct of this stack (an imported role cannot carry metadata). */
function roleOf(grantee: iam.IGrantable): IConstruct | undefined {
  const principal = grantee.grantPrincipal;
  return Construct.isConstruct(principal) ? principal : undefined;
}

/** grantAccess (lib/infra/access.ts): object actions on `messages/*`. */
export function acknowledgeMessageObjectGrant(grantee: iam.IGrantable, storage: Storage, prefix: string): void {
  const role = roleOf(grantee);
  if (!role) return;
  acknowledge(
    role,
    `IAM5[Resource::${attributeOf(storage.bucket, 'Arn')}/${prefix}*]`,
    'Message objects are keyed per message (written at run time): the grant names the bucket, the messages/ ' +
      'prefix and the object actions the code makes, nothing wider.',
  );
}

/** deliver (lib/infra/functions.ts): the DKIM keys and the SES identities it signs and sends for. */
export function acknowledgeDeliverGrants(grantee: iam.IGrantable, dkimSecretPrefix: string): void {
  const role = roleOf(grantee);
  if (!role) return;
  acknowledge(
    role,
    `IAM5[Resource::${inThisAccount(role, 'secretsmanager', `secret:${dkimSecretPrefix}*`)}]`,
    "One DKIM key secret per sending domain, created at run time by 'admin dkim': the grant is GetSecretValue " +
      'under the DKIM prefix of this account and region only.',
  );
  acknowledge(
    role,
    `IAM5[Resource::${inThisAccount(role, 'ses', 'identity/*')}]`,
    'The domains mail is sent for are SES identities added at run time, not known at synth; the grant is ' +
      'SendEmail/SendRawEmail on identities of this account and region only.',
  );
}

/** sesFeedback (lib/infra/ses-feedback.ts): the account's SES suppression list. */
export function acknowledgeSuppressionListGrant(grantee: iam.IGrantable): void {
  const role = roleOf(grantee);
  if (!role) return;
  acknowledge(
    role,
    'IAM5[Resource::*]',
    'ses:PutSuppressedDestination acts on the account-level suppression list, which has no ARN (the action ' +
      'supports no resource-level permission); the statement holds that one action only.',
  );
}

/** notify (lib/infra/notifier.ts): the event source mapping's stream read. */
export function acknowledgeStreamListGrant(grantee: iam.IGrantable): void {
  const role = roleOf(grantee);
  if (!role) return;
  acknowledge(
    role,
    'IAM5[Resource::*]',
    'dynamodb:ListStreams (added by the stream grant the event source mapping needs) supports no resource-level ' +
      "permission; the stream itself is read only on the changes table's stream ARN.",
  );
}

/** clientconfig (lib/infra/clientSetup.ts): the HTTP API that serves public documents. */
export function acknowledgePublicDocumentsApi(route: IConstruct): void {
  acknowledge(
    route,
    'APIG4',
    'The MTA-STS policy (RFC 8461 §3.3), autoconfig and autodiscover documents are fetched anonymously by ' +
      'sending servers and mail clients before any login; they hold only public server settings.',
  );
}

/** certrenew (lib/infra/certificates.ts): its account key, and the Route 53 changes it waits for. */
export function acknowledgeCertRenewal(accountSecret: IConstruct, grantee: iam.IGrantable): void {
  acknowledge(
    accountSecret,
    'SMG4',
    "The ACME account key identifies the stack's account at the CA; the renewal writes it once and never " +
      'needs a new one, so a rotation function would only break the link to the account.',
  );
  const role = roleOf(grantee);
  if (!role) return;
  acknowledge(
    role,
    'IAM5[Resource::arn:<AWS::Partition>:route53:::change/*]',
    'route53:GetChange is asked for the change id ChangeResourceRecordSets just returned (known only then); ' +
      'a change id reveals only whether that change is INSYNC.',
  );
}

/** The findings on whole resources of the stack; `optedOut` are the checks the operator turned off by a prop. */
export function acknowledgeNagFindings(
  stack: PosternStack,
  optedOut: { readonly flowLogs: boolean; readonly containerInsights: boolean },
): void {
  const { loadBalancer, gateway, sesFeedback, network } = stack;
  if (optedOut.flowLogs) {
    acknowledge(network.vpc, 'VPC7', 'The operator turned the VPC flow log off (flowLogs: false).');
  }
  if (optedOut.containerInsights) {
    acknowledge(
      gateway.service.cluster,
      'ECS4',
      'The operator turned Container Insights off (containerInsights: false).',
    );
  }

  acknowledge(
    loadBalancer.securityGroup,
    'EC23',
    'An MX must accept port 25 from any address, and mail clients reach submission, POP3 and IMAP from ' +
      'anywhere; the group admits exactly the seven listener ports (the tasks admit only this group).',
  );
  acknowledge(
    loadBalancer.nlb,
    'ELB2',
    'NLB access logs are written for TLS listeners only; every listener here is TCP (TLS ends in the gateway, ' +
      'which logs each session), and the VPC flow log records the connections.',
  );
  acknowledge(
    gateway.service.taskDefinition,
    'ECS2',
    'The environment holds names, ports and the host name only; the SRS key comes in as an ECS secret and the ' +
      'TLS key is read from Secrets Manager at run time.',
  );
  const executionRole = gateway.service.taskDefinition.executionRole;
  if (executionRole) {
    acknowledge(
      executionRole,
      'IAM5[Resource::*]',
      'ecr:GetAuthorizationToken (pulling the gateway image) has no resource type; the image pull itself is ' +
        "granted on the asset repository's ARN.",
    );
  }
  acknowledge(
    gateway.srsSecret,
    'SMG4',
    'Rotating the SRS key would make every address rewritten before the rotation fail its check, refusing ' +
      'the bounces to forwarded mail: the key is generated once and kept.',
  );
  if (gateway.tlsSecret.node.defaultChild) {
    acknowledge(
      gateway.tlsSecret,
      'SMG4',
      'A certificate is renewed by writing the new chain and key into this secret (operator or ACME renewal), ' +
        'which the gateway reloads; a Secrets Manager rotation function has nothing to generate.',
    );
  }
  acknowledge(
    sesFeedback.failed,
    'SQS3',
    'This queue is the dead-letter queue (of the SES feedback rule and function): it has none of its own.',
  );
}
