import type { Orm } from '../db/orm.js';
import { Host, Vm } from '../db/entities.js';
import { reader, updateRow } from './store.js';

/**
 * The controller's in-memory copy of every VM and host row. The controller is
 * the only writer of these tables; every write goes to the database first and
 * then here, so reads on hot paths (a VM's status, placement, task planning)
 * need no query.
 */
export class Records {
  readonly vms = new Map<string, Vm>();
  readonly hosts = new Map<string, Host>();
  private readonly pendingVmWrites = new Map<string, Partial<Vm>>();
  private readonly revisions = new Map<string, number>();
  private clock = 0;
  private flushing?: Promise<void>;

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

  putVm(vm: Vm): void {
    this.vms.set(vm.id, detached(Vm, vm));
    this.touch(vm.id);
  }

  putHost(host: Host): void {
    this.hosts.set(host.id, detached(Host, host));
  }

  dropVm(id: string): void {
    this.vms.delete(id);
    this.revisions.delete(id);
  }

  dropHost(id: string): void {
    this.hosts.delete(id);
  }

  async updateVm(id: string, patch: Partial<Vm>): Promise<void> {
    const current = this.vms.get(id);
    if (!current) return;
    await this.write('vms', id, patch);
    Object.assign(current, patch);
    this.touch(id);
  }

  /**
   * Applies a hypervisor report (power state, host) at once and writes it
   * behind, coalescing repeated reports of one VM. Such reports need no
   * durability of their own: every agent sends its full inventory again when
   * it reconnects, which also happens after a controller restart.
   */
  reportVm(id: string, patch: Partial<Vm>, condition?: { hostId: string }): void {
    const current = this.vms.get(id);
    if (!current || (condition && current.hostId !== condition.hostId)) return;
    Object.assign(current, patch);
    this.touch(id);
    this.pendingVmWrites.set(id, { ...this.pendingVmWrites.get(id), ...patch });
    this.flushing ??= this.flushReports();
  }

  /** Resolves once every report taken so far is written. */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flushReports(): Promise<void> {
    try {
      while (this.pendingVmWrites.size) {
        const [id, patch] = this.pendingVmWrites.entries().next().value as [string, Partial<Vm>];
        this.pendingVmWrites.delete(id);
        await this.write('vms', id, patch).catch(this.onWriteError);
      }
    } finally {
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
