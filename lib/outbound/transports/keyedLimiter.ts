/**
 * At most `max` tasks at once per key (the MX transport's sessions per destination domain, so one busy
 * process does not open dozens of connections to one receiver, which many receivers punish). Waiters run in
 * arrival order; a key's entry is dropped once nothing runs or waits for it, so memory follows the load.
 */
export class KeyedLimiter {
  private readonly slots = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(private readonly max: number) {}

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { running: 0, waiting: [] };
      this.slots.set(key, slot);
    }
    if (slot.running >= this.max) {
      const s = slot;
      await new Promise<void>((resolve) => s.waiting.push(resolve));
    } else {
      slot.running += 1;
    }
    try {
      return await task();
    } finally {
      const next = slot.waiting.shift();
      if (next) next();
      else if (--slot.running === 0) this.slots.delete(key);
    }
  }

  /** Keys with tasks running or waiting (tests). */
  get size(): number {
    return this.slots.size;
  }
}
