import { App } from 'aws-cdk-lib';
import { MTA_STS_MODES, type MtaStsMode } from '../clientSetup/mtaSts.ts';
import { PosternStack } from './stack.ts';

/**
 * CDK entry (cdk.json: "node --import tsx lib/infra/app.ts"). Everything comes from context (-c key=value), and
 * nothing is looked up at synth: without `account` and `region` the stack is environment-agnostic.
 *
 *   hostname        gateway host name (default mail.example.com)
 *   tlsSecretArn    existing Secrets Manager secret with {"cert","key"} (default: a placeholder is created)
 *   desiredCount    gateway tasks (default 1)
 *   account, region explicit environment; then availabilityZones (comma-separated) is required
 *   hostedZoneId, hostedZoneName   optional Route 53 zone of the mail domain: every record, the HTTPS front
 *   mtaStsMode      testing (default), enforce or none
 *   stackName       default Postern
 */
const app = new App();

function context(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

const account = context('account');
const region = context('region');
const availabilityZones = context('availabilityZones')
  ?.split(',')
  .map((az) => az.trim())
  .filter(Boolean);
if (account && region) {
  if (!availabilityZones?.length) {
    throw new Error('With an explicit account and region, pass -c availabilityZones=az1,az2 (synth does no lookups)');
  }
  // Answer the AZ lookup the VPC would otherwise make (what cdk.context.json would hold after a lookup).
  app.node.setContext(`availability-zones:account=${account}:region=${region}`, availabilityZones);
}
const hostedZoneId = context('hostedZoneId');
const hostedZoneName = context('hostedZoneName');
const desiredCount = context('desiredCount');

function mtaStsMode(value: string | undefined): MtaStsMode | undefined {
  if (value === undefined) return undefined;
  if (!(MTA_STS_MODES as readonly string[]).includes(value))
    throw new Error(`mtaStsMode: one of ${MTA_STS_MODES.join(', ')}`);
  return value as MtaStsMode;
}

new PosternStack(app, context('stackName') ?? 'Postern', {
  description: 'Postern: serverless mail (SMTP, POP3, IMAP gateway on Fargate; Lambda, S3, DynamoDB)',
  ...(account || region ? { env: { account, region } } : {}),
  hostname: context('hostname'),
  tlsSecretArn: context('tlsSecretArn'),
  desiredCount: desiredCount === undefined ? undefined : Number(desiredCount),
  availabilityZones,
  mtaStsMode: mtaStsMode(context('mtaStsMode')),
  hostedZone: hostedZoneId && hostedZoneName ? { hostedZoneId, zoneName: hostedZoneName } : undefined,
});

app.synth();
