import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** What to install when no usable Java runtime is found; local/main.ts prints it without a stack trace. */
export class JavaMissingError extends Error {
  constructor(detail: string) {
    super(
      `DynamoDB Local needs a Java 17+ runtime, and ${detail}.\n` +
        'Install one, e.g. on Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless (or default-jre-headless),\n' +
        'on macOS: brew install openjdk@17. Or point Postern at another DynamoDB with AWS_ENDPOINT_URL_DYNAMODB.',
    );
    this.name = 'JavaMissingError';
  }
}

export function javaCommand(): string {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Checks for java and its major version before anything is spawned; returns its `-version` banner. */
export function checkJava(): string {
  const result = spawnSync(javaCommand(), ['-version'], { encoding: 'utf8' });
  if (result.error) throw new JavaMissingError('no `java` command was found');
  const banner = `${result.stderr}${result.stdout}`;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(banner);
  const major = match ? (match[1] === '1' ? Number(match[2]) : Number(match[1])) : 0;
  if (major < 17) throw new JavaMissingError(`the java found is version ${major || 'unknown'}`);
  return banner;
}
