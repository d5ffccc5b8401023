import type { ChildProcess } from 'node:child_process';

/**
 * Waits for a helper process's first stdout line, the JSON it prints once it is listening; rejects when it
 * exits first or stays silent for 60 s.
 */
export function firstJsonLine<T>(child: ChildProcess, what: string): Promise<T> {
  let out = '';
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 60 s`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl !== -1) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)) as T);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before listening`));
    });
  });
}
