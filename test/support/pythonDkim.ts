/**
 * DKIM verification by a verifier nobody here wrote: Debian's python3-dkim (dkimpy), with its DNS lookups
 * answered from the TXT records given (name with the trailing dot -> record text as DNS would assemble it).
 */
import { spawn } from 'node:child_process';

const SCRIPT = `
import dkim, json, sys
records = json.loads(sys.argv[1])
message = sys.stdin.buffer.read()
def dnsfunc(name, timeout=5):
    return records.get(name.decode('ascii'), '').encode('ascii')
verifier = dkim.DKIM(message)
count = len([h for h in verifier.headers if h[0].lower() == b'dkim-signature'])
results = []
for i in range(count):
    try:
        results.append(bool(verifier.verify(idx=i, dnsfunc=dnsfunc)))
    except dkim.DKIMException as e:
        results.append(False)
print(json.dumps(results))
`;

/** One result per DKIM-Signature field of the message, top first: true when dkimpy verifies it. */
export function verifyWithDkimpy(message: Buffer, records: Readonly<Record<string, string>>): Promise<boolean[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', ['-c', SCRIPT, JSON.stringify(records)], { stdio: 'pipe' });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`python3-dkim exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as boolean[]);
    });
    child.stdin.end(message);
  });
}
