import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensurePrivateDir } from '../private.ts';
import { JavaMissingError, javaCommand } from './java.ts';

const run = promisify(execFile);
const MAIN_CLASS = 'LoopbackDynamoDb';
const SOURCE = fileURLToPath(new URL(`${MAIN_CLASS}.java`, import.meta.url));

/** How to start DynamoDB Local bound to loopback: java arguments before the jar's own options. */
export interface Launcher {
  readonly classPathAndMain: readonly string[];
}

/**
 * LoopbackDynamoDb.java compiled once per (its source, the jar, the java) into node_modules/.cache: the source
 * launcher (JEP 330) would compile it on every start, which costs more than DynamoDB Local takes to start.
 * Both need the jdk.compiler module; a runtime without it gets a JavaMissingError, never a start on every
 * interface. Where the cache cannot be written, the source launcher runs it instead.
 */
export async function loopbackLauncher(jar: string, cacheRoot: string, javaBanner: string): Promise<Launcher> {
  const source = readFileSync(SOURCE);
  const key = createHash('sha256').update(source).update(`\0${jar}\0${javaBanner}`).digest('hex').slice(0, 16);
  const classDir = join(cacheRoot, key);
  if (existsSync(join(classDir, `${MAIN_CLASS}.class`))) return { classPathAndMain: classArgs(classDir, jar) };
  let scratch: string;
  try {
    ensurePrivateDir(dirname(classDir));
    scratch = `${classDir}.${randomBytes(4).toString('hex')}`;
    ensurePrivateDir(scratch);
  } catch {
    return { classPathAndMain: ['-cp', jar, SOURCE] };
  }
  try {
    await compile(jar, scratch);
    publish(scratch, classDir);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { classPathAndMain: classArgs(classDir, jar) };
}

function classArgs(classDir: string, jar: string): string[] {
  // The jar's manifest Class-Path brings in DynamoDBLocal_lib, for javac and at run time alike.
  return ['-cp', `${classDir}${delimiter}${jar}`, MAIN_CLASS];
}

async function compile(jar: string, outDir: string): Promise<void> {
  try {
    await run(javaCommand(), ['-m', 'jdk.compiler/com.sun.tools.javac.Main', '-d', outDir, '-cp', jar, SOURCE]);
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '');
    if (/jdk\.compiler not found/.test(stderr)) {
      throw new JavaMissingError(
        'the java found lacks the jdk.compiler module, which Postern needs to start DynamoDB Local on 127.0.0.1 only',
      );
    }
    throw new Error(`could not compile ${SOURCE}: ${stderr || (err as Error).message}`);
  }
}

/** Moves a finished compile into place; a concurrent start that got there first wins, with the same class. */
function publish(scratch: string, classDir: string): void {
  try {
    renameSync(scratch, classDir);
  } catch (err) {
    if (!existsSync(join(classDir, `${MAIN_CLASS}.class`))) throw err;
  }
}
