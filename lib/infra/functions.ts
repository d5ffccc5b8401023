import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUCKET_ENV, DKIM_SECRET_PREFIX, TABLE_ENV } from '../core/schema.ts';
import {
  type ComponentAccess,
  DELIVER_ACCESS,
  FILTER_ACCESS,
  grantAccess,
  ROUTE_ACCESS,
  SES_FEEDBACK_ACCESS,
  STORE_ACCESS,
  tablesOf,
} from './access.ts';
import { acknowledgeDeliverGrants } from './nagAcknowledgements.ts';
import { NODE_BUNDLE } from './nodeBundle.ts';
import { REPO_ROOT } from './paths.ts';
import { ownedLogGroup, type Protection } from './protection.ts';
import type { Storage } from './storage.ts';

export interface FunctionsProps {
  readonly storage: Storage;
  /** The gateway's public host name (authserv-id, Received lines). */
  readonly hostname: string;
  readonly protection: Protection;
}

/** How esbuild bundles each function (test/infra/bundle.test.ts loads the bundles it makes with these). */
export const LAMBDA_BUNDLING = {
  format: nodejs.OutputFormat.ESM,
  target: NODE_BUNDLE.target,
  mainFields: [...NODE_BUNDLE.mainFields],
  banner: NODE_BUNDLE.banner,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // Pin the SDK version the code was tested with instead of the one the runtime happens to ship.
  bundleAwsSDK: true,
} as const satisfies nodejs.BundlingOptions;

interface FunctionSpec {
  readonly memorySize: number;
  readonly timeout: Duration;
  /** What the step's code calls (lib/infra/access.ts): its grants, and which names its environment holds. */
  readonly access: ComponentAccess;
  /** Settings of this function besides the storage names. */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * The mail-logic Lambdas (route, filter, store, deliver, sesFeedback), bundled locally by esbuild from functions/<name>/index.ts.
 * Each gets only the environment and the permissions its step needs.
 */
export class Functions extends Construct {
  readonly route: nodejs.NodejsFunction;
  readonly filter: nodejs.NodejsFunction;
  readonly store: nodejs.NodejsFunction;
  readonly deliver: nodejs.NodejsFunction;
  readonly deliverSchedule: events.Rule;
  /** Started by the SES events rule (lib/infra/ses-feedback.ts), which also grants it the suppression list. */
  readonly sesFeedback: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { storage } = props;
    const { tables, bucket } = storage;

    const make = (name: string, spec: FunctionSpec): nodejs.NodejsFunction => {
      const environment: Record<string, string> = {
        NODE_OPTIONS: '--enable-source-maps',
        POSTERN_HOSTNAME: props.hostname,
        ...spec.environment,
      };
      for (const tableId of tablesOf(spec.access)) environment[TABLE_ENV[tableId]] = tables[tableId].tableName;
      if (spec.access.messageObjects.length > 0) environment[BUCKET_ENV] = bucket.bucketName;

      const fn = postFunction(this, name, {
        protection: props.protection,
        memorySize: spec.memorySize,
        timeout: spec.timeout,
        environment,
      });
      grantAccess(fn, storage, spec.access);
      return fn;
    };

    // route: is the recipient local, an alias, a list, remote or unknown? Reads the directory, nothing else.
    this.route = make('Route', { memorySize: 256, timeout: Duration.seconds(10), access: ROUTE_ACCESS });

    // filter: SPF/DKIM/DMARC/ARC and spam checks on the stored raw message. Reads message objects only.
    this.filter = make('Filter', { memorySize: 512, timeout: Duration.seconds(60), access: FILTER_ACCESS });

    // store: UID/MODSEQ allocation, index item, quota. Reads the message, writes the mailbox index.
    this.store = make('Store', { memorySize: 512, timeout: Duration.seconds(30), access: STORE_ACCESS });

    // deliver: works the outbound queue. Passes for up to 4 minutes (DELIVER_BUDGET_MS), so 5 minutes of
    // timeout; a claim lasts 15, so a runner killed at its timeout never overlaps the next one's claim.
    this.deliver = make('Deliver', {
      memorySize: 512,
      timeout: Duration.minutes(5),
      access: DELIVER_ACCESS,
      environment: { POSTERN_OUTBOUND_TRANSPORT: 'ses' },
    });
    grantDeliverSecretsAndSes(this.deliver);
    // The sweeper: every minute, whether or not the gateway kicked it after an enqueue.
    this.deliverSchedule = new events.Rule(this, 'DeliverSchedule', {
      description: 'Runs the outbound queue (deliver) every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.deliver, { retryAttempts: 0 })],
    });

    // sesFeedback: an SES bounce or complaint event → suppression entries and the sender's DSN.
    this.sesFeedback = make('SesFeedback', {
      memorySize: 256,
      timeout: Duration.seconds(30),
      access: SES_FEEDBACK_ACCESS,
    });
  }

  get all(): readonly nodejs.NodejsFunction[] {
    return [...this.invokedByGateway, this.sesFeedback];
  }

  /** The functions the gateway invokes (InvokedFunction); sesFeedback is started by EventBridge only. */
  get invokedByGateway(): readonly nodejs.NodejsFunction[] {
    return [this.route, this.filter, this.store, this.deliver];
  }
}

export interface PostFunctionOptions {
  readonly protection: Protection;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** The whole environment (NODE_OPTIONS included). */
  readonly environment: Readonly<Record<string, string>>;
  /** functions/<entry>/index.ts; default the name in lower case. */
  readonly entry?: string;
  /** Placement in the VPC, for a function that must reach the tasks. */
  readonly network?: Pick<nodejs.NodejsFunctionProps, 'vpc' | 'vpcSubnets' | 'allowPublicSubnet' | 'securityGroups'>;
}

/**
 * Every Lambda of the stack: bundled by esbuild from functions/<name>/index.ts, Node 24 on ARM64 (the Node the
 * tests run on, the `node` dev dependency), with its own log group and role (functionLogsAndRole).
 */
export function postFunction(scope: Construct, name: string, opts: PostFunctionOptions): nodejs.NodejsFunction {
  const { logGroup, role } = functionLogsAndRole(scope, name, opts.protection);
  return new nodejs.NodejsFunction(scope, name, {
    entry: path.join(REPO_ROOT, 'functions', opts.entry ?? name.toLowerCase(), 'index.ts'),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: opts.memorySize,
    timeout: opts.timeout,
    logGroup,
    role,
    environment: { ...opts.environment },
    bundling: LAMBDA_BUNDLING,
    ...opts.network,
  });
}

/**
 * A Lambda's own log group (the stack's retention, kept with the data) and its own role, which may write to that
 * group only: the default role's managed AWSLambdaBasicExecutionRole may write to every log group of the account
 * (cdk-nag IAM4). Pass both to any new function (`logGroup`, `role`).
 */
export function functionLogsAndRole(
  scope: Construct,
  name: string,
  protection: Protection,
): { logGroup: logs.LogGroup; role: iam.Role } {
  const logGroup = ownedLogGroup(scope, `${name}Logs`, protection);
  const role = new iam.Role(scope, `${name}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Postern ${name} function`,
  });
  logGroup.grants.write(role);
  return { logGroup, role };
}

/**
 * The DKIM private keys (one secret per domain under DKIM_SECRET_PREFIX: only deliver signs, so only it reads
 * them) and sending through SES (SESv2 SendEmail with a raw message needs ses:SendRawEmail as well), on this
 * account's identities in this region.
 */
function grantDeliverSecretsAndSes(fn: nodejs.NodejsFunction): void {
  const stack = Stack.of(fn);
  const arn = (service: string, resource: string) =>
    `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue'],
      resources: [arn('secretsmanager', `secret:${DKIM_SECRET_PREFIX}*`)],
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['ses:SendEmail', 'ses:SendRawEmail'],
      resources: [arn('ses', 'identity/*')],
    }),
  );
  acknowledgeDeliverGrants(fn, DKIM_SECRET_PREFIX);
}
