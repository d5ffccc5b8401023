/**
 * A Map holding at most `maxKeys` keys: past it, the least recently stored entries are dropped, except those
 * `canDrop` protects (attempts still in flight). This is what bounds the login throttle's memory when a spray
 * comes from many addresses or names many accounts.
 */
export class LruTable<V> {
  private readonly entries = new Map<string, V>();

  constructor(
    private readonly maxKeys: number,
    private readonly canDrop: (value: V) => boolean = () => true,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Stores the value as the most recently used one, then trims the table. */
  set(key: string, value: V): void {
    this.entries.delete(key); // re-insert: Map order is then least recently stored first
    this.entries.set(key, value);
    if (this.entries.size <= this.maxKeys) return;
    for (const [k, v] of this.entries) {
      if (this.entries.size <= this.maxKeys) break;
      if (k !== key && this.canDrop(v)) this.entries.delete(k);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
