import { Duration, SecretValue, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import { postFunction } from './functions.ts';
import { acknowledgeCertRenewal } from './nagAcknowledgements.ts';
import type { Protection } from './protection.ts';

export interface AcmeOptions {
  /** `production` (Let's Encrypt, the default), `staging`, or an ACME directory URL. */
  readonly directory?: string;
  /** Contact address of the ACME account. */
  readonly email?: string;
  /** Renew when fewer than this many days remain. Default 30. */
  readonly renewBeforeDays?: number;
}

export interface CertificatesProps {
  readonly hostname: string;
  /** Bring your own secret ({"cert","key"} PEM): no ACME then. */
  readonly tlsSecretArn?: string;
  /** The zone DNS-01 challenges are written to; without one no certificate is issued (fill the secret by hand). */
  readonly hostedZone?: { readonly hostedZoneId: string; readonly zoneName: string };
  readonly acme?: AcmeOptions;
  readonly protection: Protection;
}

/** A complete secret ARN ends in the 6-character suffix Secrets Manager appends to the name. */
const COMPLETE_SECRET_ARN = /:secret:.+-[A-Za-z0-9]{6}$/;

/**
 * The gateway's TLS secret and, with a hosted zone, the ACME renewal that fills it: functions/certrenew runs
 * daily and once per deployment (asynchronously: a CA or DNS hiccup must not fail the deploy), and the gateway
 * reloads the secret by itself. The secrets are retained when the stack is deleted (unless the stack keeps nothing: Protection), and their CloudFormation
 * properties never depend on the host name, so no later deployment resets what renewal wrote.
 */
export class Certificates extends Construct {
  readonly tlsSecret: secretsmanager.ISecret;
  readonly accountSecret?: secretsmanager.Secret;
  readonly renewal?: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: CertificatesProps) {
    super(scope, id);
    if (props.tlsSecretArn) {
      this.tlsSecret = COMPLETE_SECRET_ARN.test(props.tlsSecretArn)
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'TlsSecret', props.tlsSecretArn)
        : secretsmanager.Secret.fromSecretPartialArn(this, 'TlsSecret', props.tlsSecretArn);
      return;
    }
    // The placeholder the gateway serves a temporary self-signed certificate for, until it is filled in.
    const tlsSecret = new secretsmanager.Secret(this, 'TlsSecret', {
      description: 'Postern: the gateway TLS certificate, JSON {"cert": "<PEM chain>", "key": "<PEM private key>"}',
      secretObjectValue: { cert: SecretValue.unsafePlainText(''), key: SecretValue.unsafePlainText('') },
      removalPolicy: props.protection.removalPolicy,
    });
    // the id it had when GatewayService made it: a new one would make CloudFormation replace the secret
    (tlsSecret.node.defaultChild as secretsmanager.CfnSecret).overrideLogicalId('GatewayTlsSecret2487661C');
    this.tlsSecret = tlsSecret;
    if (!props.hostedZone) return;

    const { hostname } = props;
    const zoneName = props.hostedZone.zoneName.replace(/\.$/, '').toLowerCase();
    if (hostname.toLowerCase() !== zoneName && !hostname.toLowerCase().endsWith(`.${zoneName}`)) {
      throw new Error(`hostname ${hostname} is not in the hosted zone ${zoneName}: DNS-01 cannot prove it`);
    }
    const accountSecret = new secretsmanager.Secret(this, 'AcmeAccountSecret', {
      description: 'Postern: the ACME account key of the certificate renewal, JSON {"accountKey": "<PEM>"}',
      secretStringValue: SecretValue.unsafePlainText('{}'),
      removalPolicy: props.protection.removalPolicy,
    });
    this.accountSecret = accountSecret;

    const acme = props.acme ?? {};
    // an order with a Route 53 change to wait for twice (set, remove): minutes at most
    const fn = postFunction(this, 'CertRenew', {
      protection: props.protection,
      memorySize: 512,
      timeout: Duration.minutes(10),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POSTERN_HOSTNAME: hostname,
        POSTERN_HOSTED_ZONE_ID: props.hostedZone.hostedZoneId,
        POSTERN_TLS_SECRET_ARN: tlsSecret.secretArn,
        POSTERN_ACME_ACCOUNT_SECRET_ARN: accountSecret.secretArn,
        POSTERN_ACME_DIRECTORY: acme.directory ?? 'production',
        ...(acme.email ? { POSTERN_ACME_EMAIL: acme.email } : {}),
        ...(acme.renewBeforeDays ? { POSTERN_ACME_RENEW_BEFORE_DAYS: String(acme.renewBeforeDays) } : {}),
      },
    });
    this.renewal = fn;
    acknowledgeCertRenewal(accountSecret, fn);
    grantRenewal(fn, { hostedZoneId: props.hostedZone.hostedZoneId, hostname, secrets: [tlsSecret, accountSecret] });

    new events.Rule(this, 'Daily', {
      description: 'Renews the gateway certificate when due (daily)',
      schedule: events.Schedule.rate(Duration.days(1)),
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2 })],
    });
    new triggers.Trigger(this, 'OnDeploy', {
      handler: fn,
      invocationType: triggers.InvocationType.EVENT,
      executeAfter: [tlsSecret, accountSecret],
    });
  }
}

/**
 * Only what renewal calls: the challenge TXT record of this host name in this zone (UPSERT and DELETE),
 * GetChange to wait for INSYNC, and reading and writing the two secrets.
 */
function grantRenewal(
  fn: nodejs.NodejsFunction,
  opts: { hostedZoneId: string; hostname: string; secrets: readonly secretsmanager.ISecret[] },
): void {
  const { partition } = Stack.of(fn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['route53:ChangeResourceRecordSets'],
      resources: [`arn:${partition}:route53:::hostedzone/${opts.hostedZoneId}`],
      conditions: {
        'ForAllValues:StringEquals': {
          'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`_acme-challenge.${opts.hostname.toLowerCase()}`],
          'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'],
          'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
        },
      },
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['route53:GetChange'], resources: [`arn:${partition}:route53:::change/*`] }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      resources: opts.secrets.map((s) => s.secretArn),
    }),
  );
}
