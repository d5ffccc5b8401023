/**
 * The prices `npm run cost` uses: AWS us-east-1, on-demand list prices, in US dollars, no free tier counted.
 *
 * These are the figures as the author knows them, not read from the pages at the date of writing (no network):
 * the list prices in effect since DynamoDB's on-demand cut of 2024-11-01 and the public IPv4 charge of
 * 2024-02-01, unchanged as far as known since. Check each against its page before relying on a total; a price
 * changed here changes every figure printed.
 */
export const PRICES_AS_OF = '2024-11-01 (list prices as known; not re-checked against the pages since)';
export const REGION = 'us-east-1';
export const HOURS_PER_MONTH = 730;

export interface Price {
  readonly usd: number;
  readonly per: string;
  readonly page: string;
}

const FARGATE = 'https://aws.amazon.com/fargate/pricing/';
const ELB = 'https://aws.amazon.com/elasticloadbalancing/pricing/';
const VPC = 'https://aws.amazon.com/vpc/pricing/';
const SECRETS = 'https://aws.amazon.com/secrets-manager/pricing/';
const CLOUDWATCH = 'https://aws.amazon.com/cloudwatch/pricing/';
const DYNAMODB = 'https://aws.amazon.com/dynamodb/pricing/on-demand/';
const S3 = 'https://aws.amazon.com/s3/pricing/';
const LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const EVENTBRIDGE = 'https://aws.amazon.com/eventbridge/pricing/';
const SES = 'https://aws.amazon.com/ses/pricing/';
const KMS = 'https://aws.amazon.com/kms/pricing/';
const API_GATEWAY = 'https://aws.amazon.com/api-gateway/pricing/';
const ROUTE53 = 'https://aws.amazon.com/route53/pricing/';
const SQS = 'https://aws.amazon.com/sqs/pricing/';

export const PRICES = {
  fargateVcpuHourArm: { usd: 0.03238, per: 'vCPU-hour, Linux/ARM64', page: FARGATE },
  fargateGbHourArm: { usd: 0.00356, per: 'GB-hour, Linux/ARM64', page: FARGATE },
  fargateVcpuHourX86: { usd: 0.04048, per: 'vCPU-hour, Linux/x86', page: FARGATE },
  fargateGbHourX86: { usd: 0.004445, per: 'GB-hour, Linux/x86', page: FARGATE },
  nlbHour: { usd: 0.0225, per: 'NLB-hour', page: ELB },
  nlcuHour: { usd: 0.006, per: 'NLCU-hour', page: ELB },
  natGatewayHour: { usd: 0.045, per: 'NAT gateway-hour (plus $0.045 per GB processed)', page: VPC },
  publicIpv4Hour: { usd: 0.005, per: 'public IPv4 address-hour (Elastic IPs and task public IPs)', page: VPC },
  secret: { usd: 0.4, per: 'secret-month', page: SECRETS },
  secretsApiCalls: { usd: 0.05, per: '10,000 API calls', page: SECRETS },
  alarm: { usd: 0.1, per: 'standard-resolution alarm-month', page: CLOUDWATCH },
  dashboard: { usd: 3, per: 'dashboard-month', page: CLOUDWATCH },
  logIngestionGb: { usd: 0.5, per: 'GB of log data ingested', page: CLOUDWATCH },
  logStorageGbMonth: { usd: 0.03, per: 'GB-month of logs stored', page: CLOUDWATCH },
  dynamoWriteMillion: { usd: 0.625, per: 'million write request units', page: DYNAMODB },
  dynamoReadMillion: { usd: 0.125, per: 'million read request units', page: DYNAMODB },
  dynamoStorageGbMonth: { usd: 0.25, per: 'GB-month of table storage', page: DYNAMODB },
  dynamoPitrGbMonth: { usd: 0.2, per: 'GB-month of continuous backups (PITR)', page: DYNAMODB },
  s3StorageGbMonth: { usd: 0.023, per: 'GB-month, S3 Standard (first 50 TB)', page: S3 },
  s3PutThousand: { usd: 0.005, per: '1,000 PUT, COPY, POST or LIST requests', page: S3 },
  s3GetThousand: { usd: 0.0004, per: '1,000 GET requests (and all others)', page: S3 },
  lambdaRequestMillion: { usd: 0.2, per: 'million requests', page: LAMBDA },
  lambdaGbSecondArm: { usd: 0.0000133334, per: 'GB-second, arm64', page: LAMBDA },
  lambdaGbSecondX86: { usd: 0.0000166667, per: 'GB-second, x86', page: LAMBDA },
  eventBridgeScheduledRule: { usd: 0, per: 'event of a scheduled rule (AWS-generated, not billed)', page: EVENTBRIDGE },
  eventBridgeCustomMillion: { usd: 1, per: 'million custom events published', page: EVENTBRIDGE },
  sesOutboundThousand: { usd: 0.1, per: '1,000 outbound messages', page: SES },
  sesOutboundGb: { usd: 0.12, per: 'GB of outbound attachments (message data)', page: SES },
  kmsKey: { usd: 1, per: 'customer managed key-month', page: KMS },
  apiGatewayHttpMillion: { usd: 1, per: 'million HTTP API requests', page: API_GATEWAY },
  route53HostedZone: { usd: 0.5, per: 'hosted zone-month (records in an existing zone: none)', page: ROUTE53 },
  sqsMillion: { usd: 0.4, per: 'million standard queue requests', page: SQS },
} as const satisfies Record<string, Price>;

export type PriceName = keyof typeof PRICES;

/** An hourly price over a month of HOURS_PER_MONTH. */
export function monthly(name: PriceName, units = 1): number {
  return PRICES[name].usd * HOURS_PER_MONTH * units;
}
