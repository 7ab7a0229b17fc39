/**
 * A map whose entries expire and which never holds more than `capacity` of
 * them. An entry set again moves to the end; when the map is full, the entry
 * set longest ago is forgotten first. Expired entries at the front are
 * swept on every set, so a map whose entries live equally long holds no
 * expired entry for longer than it takes to set the next one.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, until: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, until });
    const now = this.now();
    for (const [oldest, entry] of this.entries) {
      if (entry.until > now && this.entries.size <= this.capacity) break;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
