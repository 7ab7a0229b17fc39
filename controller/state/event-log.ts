import type { Logger } from 'pino';
import type { Orm } from '../db/orm.js';
import { AuditEvent } from '../db/entities.js';
import { runStatement, selectRows } from '../db/store.js';
import type { EventInput } from '../rules/events.js';

export type LoggedEvent = Readonly<AuditEvent>;

export interface EventLogSettings {
  /** Events older than this are pruned. */
  maxAgeMs: number;
  /** At most this many events are kept; the oldest go first. */
  maxCount: number;
}

export const defaultEventLogSettings: EventLogSettings = { maxAgeMs: 30 * 24 * 3600 * 1000, maxCount: 500_000 };

const columns = [
  'id',
  'time',
  'code',
  'severity',
  'description',
  'correlation_id',
  'origin',
  'custom_id',
  'object_type',
  'object_id',
  'change',
  'status',
  'vm_id',
  'vm_name',
  'host_id',
  'host_name',
  'cluster_id',
  'data_center_id',
  'storage_domain_id',
  'template_id',
  'user_id',
  'user_name',
] as const;

const property = (column: string) => column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()) as keyof AuditEvent;
/** Rows per insert statement: SQLite binds at most 999 values in older builds. */
const rowsPerStatement = Math.floor(999 / columns.length);
const firstRetryMs = 50;
const lastRetryMs = 2_000;

/**
 * The audit log, its one writer. `record` gives an event the next id at once
 * (ids increase in the order events are recorded) and writes it within a
 * turn of the event loop: events recorded meanwhile go out together, in id
 * order, one batch after another (a group commit). Subscribers hear of
 * events only once they are written, in id order, so what a subscriber was
 * told is always in the log (until pruned) and a reader that resumes after
 * the last id it heard misses nothing and hears nothing twice. A batch the
 * database refuses is tried again after a pause that doubles up to two
 * seconds, never dropped; events recorded since wait behind it.
 *
 * A controller killed before a batch is written loses that batch: its ids
 * are given again after the restart, which no subscriber can tell apart
 * because none was told of the lost events.
 */
export class EventLog {
  private nextId = 1;
  private writtenThrough = 0;
  private prunedThrough = 0;
  private pending: AuditEvent[] = [];
  private flushing?: Promise<void>;
  private readonly listeners = new Set<(events: readonly LoggedEvent[]) => void>();
  private readonly waiters: Array<{ id: number; resolve: () => void }> = [];

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly settings: EventLogSettings = defaultEventLogSettings,
  ) {}

  /** Reads where the log stands: the next id follows the greatest written; what is below the least kept counts as pruned. */
  async load(): Promise<void> {
    const [row] = await selectRows<{ least: number | string | null; greatest: number | string | null }>(this.orm, 'select min(id) as least, max(id) as greatest from events');
    const greatest = Number(row?.greatest ?? 0);
    this.nextId = greatest + 1;
    this.writtenThrough = greatest;
    this.prunedThrough = row?.least === null || row?.least === undefined ? greatest : Number(row.least) - 1;
  }

  /** Records an event: it has its id at once and is written within a turn of the event loop. */
  record(input: EventInput): LoggedEvent {
    const event = Object.assign(new AuditEvent(), {
      ...withoutKind(input),
      id: this.nextId++,
      time: Date.now(),
      origin: input.origin ?? 'drover',
    });
    this.pending.push(event);
    this.flushing ??= this.flush();
    return event;
  }

  /** Resolves once every event recorded before the call is written. */
  settled(): Promise<void> {
    const id = this.nextId - 1;
    if (id <= this.writtenThrough) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ id, resolve }));
  }

  /** The greatest id written: subscribers have heard of every event up to it. */
  get lastWrittenId(): number {
    return this.writtenThrough;
  }

  /** The greatest id pruned: events after it are in the log unless deleted by hand. */
  get lastPrunedId(): number {
    return this.prunedThrough;
  }

  /** Calls `listener` with each batch of events once written, in id order; answers a function that stops it. */
  subscribe(listener: (events: readonly LoggedEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The written events after `afterId`, oldest first, at most `limit`. */
  async readAfter(afterId: number, limit: number): Promise<LoggedEvent[]> {
    const rows = await selectRows<Record<string, unknown>>(this.orm, `select ${columns.join(', ')} from events where id > ? and id <= ? order by id limit ${Math.max(1, Math.floor(limit))}`, [afterId, this.writtenThrough]);
    return rows.map(eventOfRow);
  }

  /** Removes events older than the maximum age and beyond the maximum count, never the newest one, so the log is never empty once it has had an event. */
  async prune(now = Date.now()): Promise<number> {
    const newest = this.writtenThrough;
    if (newest === 0) return 0;
    const [row] = await selectRows<{ through: number | string | null }>(
      this.orm,
      'select max(id) as through from events where id < ? and (time < ? or id <= ?)',
      [newest, now - this.settings.maxAgeMs, newest - this.settings.maxCount],
    );
    const through = Number(row?.through ?? 0);
    if (through <= this.prunedThrough) return 0;
    const [counted] = await selectRows<{ removed: number | string }>(this.orm, 'select count(*) as removed from events where id <= ?', [through]);
    await runStatement(this.orm, 'delete from events where id <= ?', [through]);
    this.prunedThrough = through;
    return Number(counted?.removed ?? 0);
  }

  private async flush(): Promise<void> {
    let backoffMs = 0;
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.pending.length) {
      const batch = this.pending.slice(0, rowsPerStatement);
      try {
        await this.insert(batch);
        backoffMs = 0;
      } catch (error) {
        backoffMs = Math.min(lastRetryMs, backoffMs ? backoffMs * 2 : firstRetryMs);
        this.log.warn({ err: error, events: batch.length, retryInMs: backoffMs }, 'the audit log could not be written; trying again');
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        continue;
      }
      this.pending.splice(0, batch.length);
      this.writtenThrough = batch[batch.length - 1]!.id;
      for (const listener of this.listeners) {
        try {
          listener(batch);
        } catch (error) {
          this.log.error({ err: error }, 'an event subscriber failed');
        }
      }
      this.wake();
    }
    this.flushing = undefined;
  }

  private async insert(batch: readonly AuditEvent[]): Promise<void> {
    const row = `(${columns.map(() => '?').join(', ')})`;
    const params = batch.flatMap((event) => columns.map((column) => event[property(column)] ?? null));
    await runStatement(this.orm, `insert into events (${columns.join(', ')}) values ${batch.map(() => row).join(', ')}`, params);
  }

  private wake(): void {
    for (let index = this.waiters.length - 1; index >= 0; index--) {
      const waiter = this.waiters[index]!;
      if (waiter.id > this.writtenThrough) continue;
      this.waiters.splice(index, 1);
      waiter.resolve();
    }
  }
}

function withoutKind(input: EventInput): Omit<EventInput, 'kind'> {
  const { kind: _kind, ...rest } = input;
  return rest;
}

export function eventOfRow(row: Record<string, unknown>): LoggedEvent {
  const event = new AuditEvent() as unknown as Record<string, unknown>;
  for (const column of columns) event[property(column)] = row[column] ?? null;
  event.id = Number(row.id);
  event.time = Number(row.time);
  event.code = Number(row.code);
  event.customId = row.custom_id === null || row.custom_id === undefined ? null : Number(row.custom_id);
  return event as unknown as LoggedEvent;
}
