/**
 * A process-wide budget of bytes (memory for message text in flight across all connections). Grants are
 * first come, first served; a waiter that is not served within its deadline gets `false` and must give up
 * what it holds (answer 4xx), which also breaks the standoff of many holders each waiting for more.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { bytes: number; grant: (ok: boolean) => void }[] = [];

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Resolves true once `bytes` are reserved, or false after `timeoutMs` (nothing reserved then). */
  acquire(bytes: number, timeoutMs: number): Promise<boolean> {
    const n = Math.min(bytes, this.capacity);
    if (this.waiting.length === 0 && this.used + n <= this.capacity) {
      this.used += n;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const entry = {
        bytes: n,
        grant: (ok: boolean) => {
          clearTimeout(timer);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        resolve(false);
        this.serve(); // a large waiter leaving may unblock smaller ones behind it
      }, timeoutMs);
      timer.unref();
      this.waiting.push(entry);
    });
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - Math.min(bytes, this.capacity));
    this.serve();
  }

  private serve(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0].bytes <= this.capacity) {
      const next = this.waiting.shift() as (typeof this.waiting)[number];
      this.used += next.bytes;
      next.grant(true);
    }
  }
}
