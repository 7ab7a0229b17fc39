/**
 * Runs work one piece at a time per key, in the order it was asked for,
 * inside this process; work for different keys runs concurrently. A piece
 * that fails does not hold up the next.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const current = (this.tails.get(key) ?? Promise.resolve()).then(work, work);
    const settled = current.catch(() => undefined);
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return current;
  }
}
