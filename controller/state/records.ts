import type { Orm } from '../db/orm.js';
import { Host, Vm } from '../db/entities.js';
import { reader, updateRow, updateRows } from '../db/store.js';

/** How long a change written behind may wait for others to share its statement. */
const writeBehindMs = 50;

/**
 * The controller's in-memory copy of every VM and host row. The controller is
 * the only writer of these tables; every write goes to the database first and
 * then here, except the changes `writeVmBehind` takes, so reads on hot paths
 * (a VM's status, placement, task planning) need no query.
 */
export class Records {
  readonly vms = new Map<string, Vm>();
  readonly hosts = new Map<string, Host>();
  private readonly pendingVmWrites = new Map<string, Partial<Vm>>();
  private readonly revisions = new Map<string, number>();
  private clock = 0;
  private flushing?: Promise<void>;
  private batchInFlight?: Promise<void>;
  private batchWrites?: Map<string, Partial<Vm>>;
  private flushTimer?: NodeJS.Timeout;

  constructor(
    private readonly orm: Orm,
    private readonly onWriteError: (error: unknown) => void = () => undefined,
  ) {}

  async load(): Promise<void> {
    const em = reader(this.orm);
    for (const vm of await em.find(Vm, {})) this.vms.set(vm.id, detached(Vm, vm));
    for (const host of await em.find(Host, {})) this.hosts.set(host.id, detached(Host, host));
  }

  vm(id: string): Vm | undefined {
    return this.vms.get(id);
  }

  host(id: string | null): Host | undefined {
    return id ? this.hosts.get(id) : undefined;
  }

  /** A number that changes whenever the VM's record changes, and is never reused. */
  vmRevision(id: string): number {
    return this.revisions.get(id) ?? 0;
  }

  /** Takes in a VM row read and written through the ORM; changes still being written behind stay on top of it. */
  putVm(vm: Vm): void {
    this.vms.set(vm.id, Object.assign(detached(Vm, vm), this.batchWrites?.get(vm.id), this.pendingVmWrites.get(vm.id)));
    this.touch(vm.id);
  }

  putHost(host: Host): void {
    this.hosts.set(host.id, detached(Host, host));
  }

  dropVm(id: string): void {
    this.vms.delete(id);
    this.pendingVmWrites.delete(id);
    this.revisions.delete(id);
  }

  dropHost(id: string): void {
    this.hosts.delete(id);
  }

  async updateVm(id: string, patch: Partial<Vm>): Promise<void> {
    const current = this.vms.get(id);
    if (!current) return;
    const pending = this.pendingVmWrites.get(id);
    if (pending) for (const key of Object.keys(patch)) delete pending[key as keyof Vm];
    await this.batchInFlight;
    await this.write('vms', id, patch);
    Object.assign(current, patch);
    this.touch(id);
  }

  /**
   * Applies a change that needs no durability of its own at once, and writes
   * it behind: within writeBehindMs, or as soon as a reader of the table asks
   * for it through `settled`. Changes of many VMs go out in one statement, and
   * repeated changes of one VM in one row update. Hypervisor reports (power
   * state, host) are sent again in full by every agent when it reconnects,
   * which also happens after a controller restart; a desired state is what
   * the VM's latest accepted task asked for.
   */
  writeVmBehind(id: string, patch: Partial<Vm>, condition?: { hostId: string }): void {
    const current = this.vms.get(id);
    if (!current || (condition && current.hostId !== condition.hostId)) return;
    Object.assign(current, patch);
    this.touch(id);
    this.pendingVmWrites.set(id, { ...this.pendingVmWrites.get(id), ...patch });
    this.flushTimer ??= setTimeout(() => this.flushSoon(), writeBehindMs).unref();
  }

  /** Resolves once every change taken so far is written. */
  async settled(): Promise<void> {
    this.flushSoon();
    while (this.flushing) await this.flushing;
  }

  private flushSoon(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pendingVmWrites.size) this.flushing ??= this.flushReports();
  }

  private async flushReports(): Promise<void> {
    try {
      while (this.pendingVmWrites.size) {
        this.batchWrites = new Map(this.pendingVmWrites);
        this.pendingVmWrites.clear();
        this.batchInFlight = updateRows(this.orm, 'vms', 'id', this.batchWrites).catch(this.onWriteError);
        await this.batchInFlight;
      }
    } finally {
      this.batchInFlight = undefined;
      this.batchWrites = undefined;
      this.flushing = undefined;
    }
  }

  async updateHost(id: string, patch: Partial<Host>): Promise<void> {
    const current = this.hosts.get(id);
    if (!current) return;
    await this.write('hosts', id, patch);
    Object.assign(current, patch);
  }

  private touch(id: string): void {
    this.revisions.set(id, ++this.clock);
  }

  private write(table: string, id: string, patch: object): Promise<void> {
    return updateRow(this.orm, table, 'id', id, patch);
  }
}

function detached<T extends object>(type: new () => T, source: T): T {
  const copy = new type() as Record<string, unknown>;
  for (const [key, value] of Object.entries(source)) if (!key.startsWith('__') && typeof value !== 'function') copy[key] = value;
  return copy as T;
}
