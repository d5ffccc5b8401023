/**
 * The layers, checked on the source: protocol code (SMTP, POP3, IMAP), the transport pieces and the core
 * never reach the AWS SDK, the gateway's wiring, the emulator, or the process environment. Configuration is
 * loaded once by the entry points and passed down.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Import specifiers of a file (static imports and re-exports). */
function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
}

/** Code, without comments, so a doc comment that names a variable is not a read of it. */
function codeOf(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
}

const INNER = [
  'lib/core',
  'lib/net',
  'lib/mime',
  'lib/auth',
  'lib/smtp',
  'lib/delivery',
  'lib/pop3',
  'lib/imap',
  'lib/pipeline',
  'lib/outbound',
  'lib/mailboxFormats',
];

describe('layers', () => {
  for (const dir of INNER) {
    it(`${dir} imports neither the AWS SDK, lib/gateway, lib/storage, lib/infra nor local/, and reads no process.env`, () => {
      for (const file of sources(dir)) {
        for (const spec of importsOf(file)) {
          assert.doesNotMatch(spec, /^@aws-sdk\//, `${file} imports ${spec}`);
          assert.doesNotMatch(spec, /\/(gateway|storage|infra)\/|\/local\//, `${file} imports ${spec}`);
        }
        assert.doesNotMatch(codeOf(file), /process\.env/, `${file} reads process.env`);
      }
    });
  }

  it('the checks see real imports (a file known to import the core is found)', () => {
    assert.ok(importsOf('lib/smtp/server.ts').some((s) => s.includes('core/config.ts')));
  });
});
