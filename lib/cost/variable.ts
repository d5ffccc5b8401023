import type { CostLine } from './floor.ts';
import { HOURS_PER_MONTH, PRICES } from './prices.ts';
import {
  IDLE_POLL,
  IDLE_POLLS_PER_HOUR,
  INBOUND_DELIVERY,
  type LambdaRun,
  type Operation,
  OUTBOUND_MESSAGE,
  priceOperation,
  STORED_MESSAGE,
} from './requests.ts';
import type { CfnTemplate } from './synth.ts';

/** An NLCU covers, for TCP, 1 GB processed an hour or 100,000 active connections (whichever is more). */
const NLCU_BYTES = 2 ** 30;
const NLCU_ACTIVE_CONNECTIONS = 100_000;
/**
 * Memory an idle IMAP session over TLS holds in the gateway: an assumption (64 KiB: socket, TLS state, session),
 * not measured here. 1,000 of them fit many times in one default task; this is their share of its price.
 */
export const IDLE_SESSION_BYTES = 64 * 1024;

/** Each function's memory and architecture as the template declares them (logical ids `Functions<Name>…`). */
export function lambdaSizes(template: CfnTemplate): Map<string, { memoryMb: number; arm: boolean }> {
  const sizes = new Map<string, { memoryMb: number; arm: boolean }>();
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const name = /^Functions([A-Z][A-Za-z]+?)[0-9A-F]{8}$/.exec(id)?.[1];
    if (!name) continue;
    const fn = name[0].toLowerCase() + name.slice(1);
    sizes.set(fn, {
      memoryMb: Number(r.Properties.MemorySize ?? 128),
      arm: (r.Properties.Architectures ?? []).includes('arm64'),
    });
  }
  return sizes;
}

function sizedAsDeployed(op: Operation, template: CfnTemplate): Operation {
  const sizes = lambdaSizes(template);
  const sized = (run: LambdaRun): LambdaRun => ({ ...run, ...(sizes.get(run.fn) ?? {}) });
  return { ...op, lambda: op.lambda.map(sized) };
}

function taskPricePerMonth(template: CfnTemplate): { usd: number; memoryBytes: number } | undefined {
  const task = Object.values(template.Resources).find((r) => r.Type === 'AWS::ECS::TaskDefinition');
  if (!task) return undefined;
  const arm = task.Properties.RuntimePlatform?.CpuArchitecture === 'ARM64';
  const vcpu = Number(task.Properties.Cpu) / 1024;
  const gb = Number(task.Properties.Memory) / 1024;
  const hourly = arm
    ? vcpu * PRICES.fargateVcpuHourArm.usd + gb * PRICES.fargateGbHourArm.usd
    : vcpu * PRICES.fargateVcpuHourX86.usd + gb * PRICES.fargateGbHourX86.usd;
  return { usd: hourly * HOURS_PER_MONTH, memoryBytes: gb * 2 ** 30 };
}

function perMillion(op: Operation, template: CfnTemplate, bytesThroughNlb: number): CostLine[] {
  const priced = priceOperation(sizedAsDeployed(op, template));
  const lines = priced.lines.map((l) => ({ item: l.item, quantity: 'per message', usd: l.usd * 1e6 }));
  lines.push({
    item: `NLB processed bytes (${bytesThroughNlb} per message)`,
    quantity: 'NLCU-hours',
    usd: ((bytesThroughNlb * 1e6) / NLCU_BYTES) * PRICES.nlcuHour.usd,
  });
  return lines;
}

/** Per million inbound messages of the average size. */
export function inboundPerMillion(template: CfnTemplate): CostLine[] {
  return perMillion(INBOUND_DELIVERY, template, STORED_MESSAGE.averageBytes);
}

/** Per million outbound messages of the average size (SES bills them and their bytes). */
export function outboundPerMillion(template: CfnTemplate): CostLine[] {
  const op = { ...OUTBOUND_MESSAGE, ses: { messages: 1, bytes: STORED_MESSAGE.averageBytes } };
  return perMillion(op, template, STORED_MESSAGE.averageBytes);
}

/** Per GB of mail kept a month: S3, and the DynamoDB items of the messages in it (with their backups). */
export function perGbMonth(): CostLine[] {
  const messages = 2 ** 30 / STORED_MESSAGE.averageBytes;
  const itemBytes = messages * (STORED_MESSAGE.itemBytes + 100 * STORED_MESSAGE.overheadItems);
  const itemGb = itemBytes / 2 ** 30;
  return [
    { item: 'S3 Standard', quantity: '1 GB', usd: PRICES.s3StorageGbMonth.usd },
    {
      item: `DynamoDB items (${Math.round(messages)} messages)`,
      quantity: `${itemGb.toFixed(3)} GB`,
      usd: itemGb * PRICES.dynamoStorageGbMonth.usd,
    },
    {
      item: 'DynamoDB point-in-time recovery',
      quantity: `${itemGb.toFixed(3)} GB`,
      usd: itemGb * PRICES.dynamoPitrGbMonth.usd,
    },
  ];
}

/** Per 1,000 IMAP clients in IDLE all month: the backstop polls, NLB connections, their memory in the task. */
export function perThousandIdleClients(template: CfnTemplate): CostLine[] {
  const polls = 1000 * IDLE_POLLS_PER_HOUR * HOURS_PER_MONTH;
  const poll = priceOperation(IDLE_POLL);
  const lines: CostLine[] = [
    {
      item: `IDLE backstop polls (${IDLE_POLL.dynamodb[0].request}, every 30 s)`,
      quantity: `${polls}`,
      usd: poll.total * polls,
    },
    {
      item: 'NLB active connections',
      quantity: `${1000 / NLCU_ACTIVE_CONNECTIONS} NLCU`,
      usd: (1000 / NLCU_ACTIVE_CONNECTIONS) * PRICES.nlcuHour.usd * HOURS_PER_MONTH,
    },
  ];
  const task = taskPricePerMonth(template);
  if (task) {
    const share = (1000 * IDLE_SESSION_BYTES) / task.memoryBytes;
    lines.push({
      item: `Task memory share (${IDLE_SESSION_BYTES / 1024} KiB a session, assumed)`,
      quantity: `${(share * 100).toFixed(1)}% of a task`,
      usd: share * task.usd,
    });
  }
  return lines;
}
