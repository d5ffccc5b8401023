/**
 * Helpers for the submission tests (not a test file itself): a gateway with an in-memory outbound queue
 * (test/support/memoryQueue.ts, a double of the port) and the accounts and aliases the tests send as, and a
 * runner for Python smtplib scripts (a client nobody here wrote) that print JSON.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Invoker } from '../../lib/core/ports.ts';
import { MemoryQueue } from '../support/memoryQueue.ts';
import { type MxTestGateway, startMxGateway } from './smtp-helpers.ts';

const run = promisify(execFile);

export const BOB = { address: 'bob@ours.test', password: 'bob-secret' };
export const CAROL = { address: 'carol@ours.test', password: 'carol-secret' };

export interface SubmissionGateway {
  readonly tg: MxTestGateway;
  readonly queue: MemoryQueue;
}

/**
 * bob and carol at ours.test; aliases team@ (→ bob, via a second level: crew@ → team@ → bob), carols@ (→ carol);
 * a catch-all @catch.test → bob (which does not make bob the owner of every address there).
 */
export async function startSubmissionGateway(
  opts: { env?: Record<string, string>; wrapInvoker?: (invoker: Invoker) => Invoker } = {},
): Promise<SubmissionGateway> {
  const queue = new MemoryQueue();
  const tg = await startMxGateway({
    env: { POSTERN_AUTH_FAILURE_DELAY_MS: '0', POSTERN_SMTP_RETRY_DELAY_MS: '10', ...opts.env },
    queue,
    wrapInvoker: opts.wrapInvoker,
  });
  await tg.addAccount(BOB.address, BOB.password);
  await tg.addAccount(CAROL.address, CAROL.password);
  await tg.storage.directory.addAlias('team@ours.test', ['bob@ours.test']);
  await tg.storage.directory.addAlias('crew@ours.test', ['team@ours.test']);
  await tg.storage.directory.addAlias('carols@ours.test', ['carol@ours.test']);
  await tg.storage.directory.addDomain('catch.test');
  await tg.storage.directory.addAlias('@catch.test', ['bob@ours.test']);
  return { tg, queue };
}

/** Runs a Python script (smtplib, ssl, json imported; `port`, `ctx` an unverified TLS context) and parses its JSON. */
export async function python<T = Record<string, unknown>>(script: string, ...args: string[]): Promise<T> {
  const prelude = [
    'import smtplib, ssl, sys, json, base64',
    'ctx = ssl._create_unverified_context()',
    'out = {}',
    'def reply(r): return [r[0], r[1].decode("utf-8", "replace")]',
    '',
  ].join('\n');
  const { stdout } = await run('python3', ['-c', `${prelude}${script}\nprint(json.dumps(out))`, ...args], {
    timeout: 60_000,
  });
  return JSON.parse(stdout) as T;
}

/** A message with CRLF line ends; Date and Message-ID only when asked. */
export function message(
  opts: { from?: string; to?: string; subject?: string; date?: boolean; messageId?: string; body?: string } = {},
): string {
  return (
    `From: ${opts.from ?? `Bob <${BOB.address}>`}\r\n` +
    `To: ${opts.to ?? 'someone@remote.example'}\r\n` +
    `Subject: ${opts.subject ?? 'hello'}\r\n` +
    (opts.date ? 'Date: Wed, 02 Dec 2026 12:00:00 +0000\r\n' : '') +
    (opts.messageId ? `Message-ID: <${opts.messageId}>\r\n` : '') +
    `\r\n${opts.body ?? 'Hello.\r\n'}`
  );
}
