import { App, Duration } from 'aws-cdk-lib';
import { MTA_STS_MODES, type MtaStsMode } from '../clientSetup/mtaSts.ts';
import { PosternStack } from './stack.ts';

/**
 * CDK entry (cdk.json: "node --import tsx lib/infra/app.ts"). Everything comes from context (-c key=value), and
 * nothing is looked up at synth: without `account` and `region` the stack is environment-agnostic.
 *
 *   hostname        gateway host name (default mail.example.com)
 *   tlsSecretArn    existing Secrets Manager secret with {"cert","key"} (default: a retained secret, filled by
 *                   the ACME renewal when a hosted zone is given)
 *   desiredCount    gateway tasks (default 1)
 *   azs             AZs without an explicit environment (default 2; 1 is the cheapest, see README "What it costs")
 *   cpu, memory     task size in CPU units and MiB (default 256 and 512, Fargate's smallest)
 *   account, region explicit environment; then availabilityZones (comma-separated) is required
 *   hostedZoneId, hostedZoneName   optional Route 53 zone of the mail domain: every record, the HTTPS front
 *   mtaStsMode      testing (default), enforce or none
 *   acmeDirectory   production (Let's Encrypt, default), staging, or an ACME directory URL
 *   acmeEmail       contact address of the ACME account
 *   acmeRenewBeforeDays   renew when fewer days remain (default 30)
 *   alarmEmail      address mailed every alarm (SNS email subscription; confirm the first mail)
 *   queueAgeAlarmHours  age of the oldest due outbound message that raises the QueueAge alarm (default 4)
 *   stackName       default Postern
 *   retainOnDelete, deletionProtection, flowLogs, containerInsights   true (default) or false: a throwaway test
 *                   stack sets them false (see PosternStackProps and README "What the stack keeps when deleted")
 *   noncurrentVersionDays   days a deleted or overwritten message object stays recoverable (default 30)
 */
const app = new App();

function context(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  return String(value);
}

/** A true/false setting; anything else is refused rather than read as false. */
function flag(key: string): boolean | undefined {
  const value = context(key);
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new Error(`-c ${key}= takes true or false, not ${JSON.stringify(value)}`);
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
const noncurrentVersionDays = context('noncurrentVersionDays');
const numberContext = (key: string) => {
  const value = context(key);
  return value === undefined ? undefined : Number(value);
};
const queueAgeAlarmHours = context('queueAgeAlarmHours');

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
  maxAzs: numberContext('azs'),
  cpu: numberContext('cpu'),
  memoryLimitMiB: numberContext('memory'),
  mtaStsMode: mtaStsMode(context('mtaStsMode')),
  hostedZone: hostedZoneId && hostedZoneName ? { hostedZoneId, zoneName: hostedZoneName } : undefined,
  retainOnDelete: flag('retainOnDelete'),
  deletionProtection: flag('deletionProtection'),
  flowLogs: flag('flowLogs'),
  containerInsights: flag('containerInsights'),
  noncurrentVersionExpiration:
    noncurrentVersionDays === undefined ? undefined : Duration.days(Number(noncurrentVersionDays)),
  alarmEmail: context('alarmEmail'),
  queueAgeAlarm: queueAgeAlarmHours === undefined ? undefined : Duration.hours(Number(queueAgeAlarmHours)),
  acme: {
    directory: context('acmeDirectory'),
    email: context('acmeEmail'),
    renewBeforeDays: context('acmeRenewBeforeDays') === undefined ? undefined : Number(context('acmeRenewBeforeDays')),
  },
});

app.synth();
