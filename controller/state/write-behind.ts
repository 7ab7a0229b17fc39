import { AsyncResource } from 'node:async_hooks';
import { unavailable } from '../rules/errors.js';

/** How soon a change is written: within `behindMs` together with others, or at the next turn of the event loop. */
export type Urgency = 'behind' | 'soon';

/** Writes the given patches (row id to column values), or rejects; the patches of one call may go out in any number of statements. */
export type PatchWriter = (patches: ReadonlyMap<string, Record<string, unknown>>) => Promise<void>;

type Row = Map<string, { value: unknown; seq: number }>;

interface Waiter {
  seq: number;
  resolve(): void;
  reject(error: Error): void;
}

/** How long a change written behind may wait for others to share its statement. */
export const writeBehindMs = 50;
const firstRetryMs = 50;
const lastRetryMs = 2_000;

/**
 * The one writer of some columns of one table: their owner applies a change
 * in memory at once and hands it here, to be written within `behindMs`
 * together with others, or at the next turn of the event loop (`soon`).
 * Changes of many rows go out in one batch, repeated changes of a column in
 * one value, and batches one after another, so the database sees the changes
 * in the order they were taken.
 *
 * A batch that fails is not dropped: its changes go back under those taken
 * since (a newer change of a column wins), and the batch is tried again after
 * a pause that doubles up to two seconds. `settled()` resolves once every
 * change taken before it was called is written, whatever is taken after.
 */
export class WriteBehind {
  private pending = new Map<string, Row>();
  private inFlight?: Map<string, Row>;
  private readonly waiters: Waiter[] = [];
  private seq = 0;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private flushing?: Promise<void>;
  private backoffMs = 0;
  private retrying = false;

  /** Flushes run in the writer's own async context, not in that of whichever reader's settle began them. */
  private readonly flushOutside = AsyncResource.bind(() => void this.flush());

  constructor(
    private readonly write: PatchWriter,
    private readonly onWriteError: (error: unknown, rows: number) => void,
    private readonly behindMs = writeBehindMs,
  ) {}

  /** Takes a change of some columns of a row. */
  change(id: string, columns: Record<string, unknown>, urgency: Urgency): void {
    let row = this.pending.get(id);
    if (!row) this.pending.set(id, (row = new Map()));
    const seq = ++this.seq;
    for (const [column, value] of Object.entries(columns)) row.set(column, { value, seq });
    this.schedule(urgency);
  }

  /** Whether a change of the column of the row is not written yet. */
  isPending(id: string, column: string): boolean {
    return (this.pending.get(id)?.has(column) ?? false) || (this.inFlight?.get(id)?.has(column) ?? false);
  }

  /** Forgets the changes of a row that no longer exists. */
  drop(id: string): void {
    this.pending.delete(id);
  }

  /**
   * Resolves once every change taken before the call is written. Rejects
   * with `unavailable` when an attempt to write them fails; they stay
   * pending and are tried again.
   */
  settled(): Promise<void> {
    const seq = this.seq;
    if (this.lowestUnwritten() > seq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.schedule('soon');
    });
  }

  private lowestUnwritten(): number {
    let lowest = Infinity;
    for (const rows of [this.pending, this.inFlight]) {
      for (const row of rows?.values() ?? []) for (const { seq } of row.values()) lowest = Math.min(lowest, seq);
    }
    return lowest;
  }

  private schedule(urgency: Urgency): void {
    if (this.flushing || this.retrying) return;
    if (urgency === 'soon') {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.flushOutside();
      });
    } else if (!this.timer && !this.immediate) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flushOutside();
      }, this.behindMs);
      this.timer.unref();
    }
  }

  private flush(): Promise<void> {
    this.flushing ??= this.flushAll().finally(() => {
      this.flushing = undefined;
      if (this.pending.size > 0 && !this.retrying) this.schedule('behind');
    });
    return this.flushing;
  }

  private async flushAll(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = this.pending;
      this.pending = new Map();
      this.inFlight = batch;
      const patches = new Map<string, Record<string, unknown>>();
      for (const [id, row] of batch) patches.set(id, Object.fromEntries([...row].map(([column, { value }]) => [column, value])));
      try {
        await this.write(patches);
      } catch (error) {
        this.requeue(batch);
        this.inFlight = undefined;
        this.onWriteError(error, batch.size);
        this.failWaiters(error);
        this.retryLater();
        return;
      }
      this.inFlight = undefined;
      this.backoffMs = 0;
      this.resolveWaiters();
    }
    this.resolveWaiters();
  }

  /** Puts a failed batch's changes back under the changes taken since. */
  private requeue(batch: Map<string, Row>): void {
    for (const [id, row] of batch) {
      const newer = this.pending.get(id);
      if (!newer) {
        this.pending.set(id, row);
        continue;
      }
      for (const [column, change] of row) if (!newer.has(column)) newer.set(column, change);
    }
  }

  private resolveWaiters(): void {
    const lowest = this.lowestUnwritten();
    for (let index = this.waiters.length - 1; index >= 0; index--) {
      const waiter = this.waiters[index]!;
      if (waiter.seq < lowest) {
        this.waiters.splice(index, 1);
        waiter.resolve();
      }
    }
  }

  private failWaiters(error: unknown): void {
    const failure = unavailable(`the database did not take a write (${error instanceof Error ? error.message : String(error)}); it is tried again`);
    for (const waiter of this.waiters.splice(0)) waiter.reject(failure);
  }

  private retryLater(): void {
    this.backoffMs = Math.min(lastRetryMs, this.backoffMs === 0 ? firstRetryMs : this.backoffMs * 2);
    this.retrying = true;
    setTimeout(() => {
      this.retrying = false;
      this.flushOutside();
    }, this.backoffMs).unref();
  }
}
