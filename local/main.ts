/**
 * `npm start`: the whole system on one machine. Embedded DynamoDB Local and S3 stand-in (unless
 * AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3 point elsewhere), tables and bucket from the shared schema,
 * a self-signed certificate and a demo account on first start, then the gateway as a child process, the
 * same program Fargate runs, with the mail-logic functions in-process behind the LocalInvoker.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AwsEndpoints } from '../lib/core/config.ts';
import { type Config, isLoopbackHost, loadConfig } from '../lib/core/config.ts';
import { BUCKET_ENV, namesWithPrefix } from '../lib/core/schema.ts';
import { gatewayNodeArgs } from '../lib/infra/gatewayBundle.ts';
import { makeDynamoClient, makeS3Client } from '../lib/storage/aws/clients.ts';
import { createAwsStorage } from '../lib/storage/aws/storage.ts';
import { ensureStorage } from '../lib/storage/aws/tables.ts';
import { type ChangeStreamPoller, startChangeStreamPoller } from './changeStreamPoller.ts';
import { ensureDemoAccount } from './demo.ts';
import { type DynamoDbLocal, JavaMissingError, startDynamoDbLocal } from './dynamodb.ts';
import { type GatewayState, type Gateways, gatewayCount, startGateways } from './gateways.ts';
import { loadOrCreateCredentials } from './s3/credentials.ts';
import { type Credentials, startS3Server } from './s3/server.ts';
import { ensureSrsKey } from './srsKey.ts';
import { dataDirFromEnv, prepareDataDir, readEmulatorState, writeEmulatorState } from './state.ts';
import { ensureCertificate } from './tls.ts';

const TABLE_PREFIX = 'postern';
const root = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);

const stops: (() => Promise<void> | void)[] = [];
let gateways: Gateways | undefined;
let poller: ChangeStreamPoller | undefined;
let stopping = false;

/** Stops the gateways first (they drain their sessions), then the stream poller and storage; removes the state file; exits. */
async function stop(code: number, dataDir = dataDirFromEnv()): Promise<void> {
  if (stopping) return;
  stopping = true;
  await gateways?.stop(5000);
  await poller?.stop();
  for (const fn of stops.reverse()) await fn();
  rmSync(join(dataDir, 'emulator.json'), { force: true });
  process.exit(code);
}

async function main(): Promise<void> {
  const started = Date.now();
  // the gateway reads the same settings: a bad one fails here, before anything starts
  const config = loadConfig({
    ...process.env,
    POSTERN_INVOKER: 'local',
    POSTERN_ALLOW_PLAINTEXT_AUTH: plaintextAuth(),
    POSTERN_OUTBOUND_TRANSPORT: outboundTransport(),
  });
  const count = gatewayCount(process.env);
  const dataDir = dataDirFromEnv();
  prepareDataDir(dataDir);
  const running = readEmulatorState(dataDir);
  if (running && running.pid !== process.pid) {
    throw new Error(`an emulator (pid ${running.pid}) is already running for ${dataDir}`);
  }

  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  const endpoints: { -readonly [K in keyof AwsEndpoints]: AwsEndpoints[K] } = {
    s3: process.env.AWS_ENDPOINT_URL_S3 || undefined,
    dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB || undefined,
    region: process.env.AWS_REGION || 'us-east-1',
  };
  const s3Dir = join(dataDir, 's3');
  const s3Credentials = endpoints.s3 ? undefined : loadOrCreateCredentials(s3Dir);
  const [dynamo, s3] = await Promise.all([
    endpoints.dynamodb
      ? undefined
      : startDynamoDbLocal({ dataDir: join(dataDir, 'dynamodb'), port: optionalPort('POSTERN_DYNAMODB_PORT') }),
    s3Credentials &&
      startS3Server({ dataDir: s3Dir, credentials: s3Credentials, port: optionalPort('POSTERN_S3_PORT') }),
  ]);
  if (dynamo) {
    endpoints.dynamodb = dynamo.endpoint;
    stops.push(() => dynamo.stop());
    watchDynamo(dynamo, () => void stop(1));
  }
  if (s3) {
    endpoints.s3 = s3.endpoint;
    endpoints.s3Credentials = s3Credentials;
    stops.push(() => s3.close());
  }

  const names = namesWithPrefix(TABLE_PREFIX);
  const db = makeDynamoClient(endpoints);
  const s3Client = makeS3Client(endpoints);
  await ensureStorage(db, s3Client, names);
  s3Client.destroy();
  // Several gateways hear each other's commits as in AWS: the changes table's stream → the notify function's
  // relay → UDP notices to each gateway's presence record (Lambda's event source mapping is this poller here).
  if (count > 1) poller = await startChangeStreamPoller({ endpoints, names, db });
  else db.destroy();

  const storage = createAwsStorage({ endpoints, names });
  const demo = await ensureDemoAccount(storage, dataDir);
  storage.close();
  const tls = await ensureCertificate(join(dataDir, 'tls'), process.env.POSTERN_HOSTNAME || 'localhost');
  const state = { pid: process.pid, endpoints, tablePrefix: TABLE_PREFIX, startedAt: new Date().toISOString() };
  writeEmulatorState(dataDir, state);

  const gatewayEnv = {
    ...process.env,
    POSTERN_INVOKER: 'local',
    POSTERN_TABLE_PREFIX: TABLE_PREFIX,
    [BUCKET_ENV]: names.bucket,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_REGION: endpoints.region,
    ...signingEnv(endpoints.s3Credentials),
    POSTERN_TLS_CERT_FILE: tls.certFile,
    POSTERN_TLS_KEY_FILE: tls.keyFile,
    // Locally, clients may log in without TLS; deployments refuse it (lib/core/config.ts).
    POSTERN_ALLOW_PLAINTEXT_AUTH: plaintextAuth(),
    POSTERN_OUTBOUND_TRANSPORT: outboundTransport(),
    // the deliver step runs in the gateway here: the outbox and the DKIM keys live in the data directory
    POSTERN_DATA_DIR: dataDir,
    POSTERN_DKIM_KEY_STORE: process.env.POSTERN_DKIM_KEY_STORE || 'local',
    POSTERN_SRS_SECRET: ensureSrsKey(dataDir, process.env),
  };
  // POSTERN_GATEWAY_BUNDLE=1: the gateway as the image runs it (lib/infra/gatewayBundle.ts), built into the data
  // directory now; otherwise the sources under tsx.
  const gatewayArgs = await gatewayNodeArgs(process.env.POSTERN_GATEWAY_BUNDLE === '1', join(dataDir, 'gateway'));
  let announced = false;
  gateways = startGateways({
    count,
    env: gatewayEnv,
    spawn: (env) =>
      spawn(process.execPath, gatewayArgs, {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
        env,
      }),
    onReady: (list) => {
      if (list.some((g) => g === undefined)) return;
      const ready = list as GatewayState[];
      writeEmulatorState(dataDir, { ...state, gateways: ready });
      if (announced) return;
      announced = true;
      printReady(config, dataDir, demo, Date.now() - started, endpoints, ready);
    },
    onLine: (line) => {
      if (process.env.POSTERN_QUIET !== '1') say(line);
    },
    say,
    onGiveUp: () => void stop(1),
  });
}

/** Locally, clients may log in without TLS unless told otherwise, and only while the listeners are on loopback. */
function plaintextAuth(): string {
  return (
    process.env.POSTERN_ALLOW_PLAINTEXT_AUTH ?? (isLoopbackHost(process.env.POSTERN_HOST || '127.0.0.1') ? '1' : '0')
  );
}

/** Locally mail leaves through the outbox (nothing is sent) unless a transport or a smarthost is named. */
function outboundTransport(): string {
  const { POSTERN_OUTBOUND_TRANSPORT: chosen, POSTERN_SMARTHOST: smarthost } = process.env;
  return chosen || (smarthost ? 'smarthost' : 'outbox');
}

/** The gateway's AWS clients sign with the S3 stand-in's key pair, and nothing else (DynamoDB Local takes any). */
function signingEnv(credentials: Credentials | undefined): NodeJS.ProcessEnv {
  if (!credentials) return {};
  const { accessKeyId, secretAccessKey } = credentials;
  return {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
  };
}

function optionalPort(name: string): number | undefined {
  const raw = process.env[name];
  return raw ? Number(raw) : undefined;
}

function watchDynamo(dynamo: DynamoDbLocal, onExit: () => void): void {
  dynamo.process.once('exit', (code) => {
    if (stopping) return;
    say(`postern: DynamoDB Local exited (code ${code}); stopping`);
    onExit();
  });
}

function printReady(
  config: Config,
  dataDir: string,
  demo: { address: string; password: string },
  ms: number,
  endpoints: AwsEndpoints,
  gateways: readonly GatewayState[],
): void {
  const h = config.net.host;
  const listeners = (p: GatewayState['ports']) => [
    `  SMTP (MX)          ${h}:${p.smtp}`,
    `  Submission         ${h}:${p.submission} (STARTTLS)   ${h}:${p.submissions} (TLS)`,
    `  POP3               ${h}:${p.pop3} (STLS)       ${h}:${p.pop3s} (TLS)`,
    `  IMAP               ${h}:${p.imap} (STARTTLS)   ${h}:${p.imaps} (TLS)`,
  ];
  const perGateway =
    gateways.length === 1
      ? listeners(gateways[0].ports)
      : gateways.flatMap((g, i) => [`  Gateway ${i + 1} (pid ${g.pid})`, ...listeners(g.ports)]);
  // One write, so whoever waits for the ready line gets the whole block with it.
  process.stdout.write(
    [
      '',
      `Postern is ready (${(ms / 1000).toFixed(1)} s). Data: ${dataDir}`,
      ...perGateway,
      `  Demo account       ${demo.address}  password: ${demo.password}`,
      `  Outgoing mail      ${outgoing(config)}`,
      `  Storage            DynamoDB ${endpoints.dynamodb}   S3 ${endpoints.s3}`,
      '  Admin              npm run admin -- help        Stop: Ctrl-C',
      '',
      '',
    ].join('\n'),
  );
}

/** Where mail to other domains goes: kept in the outbox unless a transport was chosen. */
function outgoing(config: Config): string {
  const { transport, smarthost } = config.outbound;
  if (transport === 'outbox') return 'kept in the outbox, not sent (npm run admin -- outbox list)';
  if (transport === 'smarthost' && smarthost) return `relayed through ${smarthost.host}:${smarthost.port}`;
  return `sent by ${transport}`;
}

main().catch((err) => {
  if (err instanceof JavaMissingError) {
    process.stderr.write(`postern: ${err.message}\n`);
  } else {
    process.stderr.write(`postern: could not start: ${(err as Error).message}\n`);
  }
  void stop(1);
});
