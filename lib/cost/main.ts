/**
 * `npm run cost [-- -c azs=1 -c desiredCount=2 -c cpu=512 -c memory=1024]`: synthesizes the stack offline with
 * those settings (the same context keys as `cdk synth`), and prints its monthly floor, the cheapest shape's
 * beside it, and the variable costs per million messages in and out, per GB stored and per 1,000 idle IMAP
 * clients, from the request counts of lib/cost/requests.ts and the prices of lib/cost/prices.ts.
 */
import type { PosternStackProps } from '../infra/stack.ts';
import { type CostLine, floorOf, totalOf } from './floor.ts';
import { PRICES, PRICES_AS_OF, REGION } from './prices.ts';
import { synthTemplate } from './synth.ts';
import { inboundPerMillion, outboundPerMillion, perGbMonth, perThousandIdleClients } from './variable.ts';

const SETTINGS: Record<string, keyof PosternStackProps> = {
  azs: 'maxAzs',
  desiredCount: 'desiredCount',
  cpu: 'cpu',
  memory: 'memoryLimitMiB',
};

/** The cheapest shape the stack offers: one task, Fargate's smallest size, one AZ. */
export const CHEAPEST: PosternStackProps = { maxAzs: 1, desiredCount: 1, cpu: 256, memoryLimitMiB: 512 };

function parseSettings(args: readonly string[]): PosternStackProps {
  const props: Record<string, number> = {};
  for (let i = 0; i < args.length; i++) {
    const pair = args[i] === '-c' ? args[++i] : args[i];
    const [key, value] = pair?.split('=') ?? [];
    const prop = SETTINGS[key];
    if (!prop || !Number.isFinite(Number(value))) {
      throw new Error(`unknown setting ${pair} (use -c ${Object.keys(SETTINGS).join('|')}=<number>)`);
    }
    props[prop] = Number(value);
  }
  return props;
}

const usd = (n: number) => `$${n < 1 ? n.toFixed(3) : n.toFixed(2)}`;

export function table(title: string, lines: readonly CostLine[]): string {
  const width = Math.max(...lines.map((l) => l.item.length), 5);
  const qty = Math.max(...lines.map((l) => l.quantity.length), 8);
  const rows = lines.map((l) => `  ${l.item.padEnd(width)}  ${l.quantity.padStart(qty)}  ${usd(l.usd).padStart(9)}`);
  return [title, ...rows, `  ${'total'.padEnd(width)}  ${''.padStart(qty)}  ${usd(totalOf(lines)).padStart(9)}`].join(
    '\n',
  );
}

export function report(props: PosternStackProps): string {
  const template = synthTemplate(props);
  const cheapest = synthTemplate(CHEAPEST);
  const shape = JSON.stringify(props) === '{}' ? 'default shape' : `shape ${JSON.stringify(props)}`;
  return [
    `Postern on AWS ${REGION}, on-demand list prices as of ${PRICES_AS_OF}; no free tier. Prices: lib/cost/prices.ts.`,
    '',
    table(`Monthly floor, ${shape} (USD a month):`, floorOf(template)),
    '',
    table('Monthly floor, cheapest shape (-c azs=1: one task, one AZ, 0.25 vCPU/0.5 GB ARM64):', floorOf(cheapest)),
    '',
    table('Per million inbound messages (75 KB, one recipient, cold caches):', inboundPerMillion(template)),
    '',
    table('Per million outbound messages (75 KB, one remote domain, through SES):', outboundPerMillion(template)),
    '',
    table('Per GB stored, a month:', perGbMonth()),
    '',
    table('Per 1,000 idle IMAP clients (in IDLE all month):', perThousandIdleClients(template)),
    '',
    `Not counted: data out to the internet (IMAP/POP3 reads, $0.09/GB), DKIM secrets (one per domain, ` +
      `$${PRICES.secret.usd}/month each), log storage ($${PRICES.logStorageGbMonth.usd}/GB-month, kept a month).`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.stdout.write(`${report(parseSettings(process.argv.slice(2)))}\n`);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 2;
  }
}
