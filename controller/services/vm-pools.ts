import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Orm } from '../db/orm.js';
import { Cluster, Template, VmPool, type Task, type VmPoolType } from '../db/entities.js';
import type { TaskQueue } from '../tasks/task-scheduler.js';
import { isRunning } from '../rules/power-states.js';
import { ServiceError, conflict, invalid, notFound, storedErrorKind } from '../rules/errors.js';
import { findReferenced, inTransaction, reader, type Reference } from '../db/store.js';
import { defined } from './datacenters.js';
import { KeyedLock } from '../rules/keyed-lock.js';
import type { Records, VmRecord } from '../state/records.js';
import type { VmService } from './vms.js';

/** The most VMs one pool may have. */
export const maxPoolSize = 1000;

export interface VmPoolInput {
  name?: string;
  description?: string;
  size?: number;
  prestartedVms?: number;
  maxUserVms?: number;
  poolType?: VmPoolType;
  template?: Reference;
  cluster?: Reference;
}

/**
 * VM pools: sets of like VMs made from one template. The controller keeps
 * `size` VMs in each pool, keeps `prestarted_vms` of the free ones running,
 * and hands free VMs to users with `allocatevm`. In an automatic pool a VM
 * its user shut down becomes free again.
 */
export class VmPoolService {
  private readonly locks = new KeyedLock();
  private readonly startFailures = new Map<string, number>();

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly scheduler: TaskQueue,
    private readonly vms: VmService,
    private readonly log: Logger,
  ) {}

  list(filter: { clusterId?: string; templateId?: string } = {}): Promise<VmPool[]> {
    return reader(this.orm).find(VmPool, defined(filter), { orderBy: { name: 'asc' } });
  }

  async get(id: string): Promise<VmPool> {
    const found = await reader(this.orm).findOne(VmPool, { id });
    if (!found) throw notFound('VM pool', id);
    return found;
  }

  members(poolId: string): VmRecord[] {
    return [...this.records.vms.values()].filter((vm) => vm.vmPoolId === poolId).sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  }

  async create(input: VmPoolInput & { name: string; size: number; template: Reference; cluster: Reference }, correlationId: string | null): Promise<VmPool> {
    const pool = await inTransaction(this.orm, async (em) => {
      const template = await findReferenced(em, Template, input.template, 'template');
      const cluster = await findReferenced(em, Cluster, input.cluster, 'cluster');
      if (template.status !== 'ok') throw conflict(`template ${template.name} is ${template.status}`);
      const prestartedVms = input.prestartedVms ?? 0;
      checkCounts(input.size, prestartedVms);
      const now = Date.now();
      return em.create(VmPool, {
        id: randomUUID(),
        name: input.name,
        description: input.description ?? '',
        clusterId: cluster.id,
        templateId: template.id,
        size: input.size,
        prestartedVms,
        maxUserVms: input.maxUserVms ?? 1,
        poolType: input.poolType ?? 'automatic',
        createdAt: now,
        updatedAt: now,
      });
    });
    await this.exclusively(pool.id, () => this.grow(pool, correlationId));
    return pool;
  }

  async update(id: string, input: VmPoolInput, correlationId: string | null): Promise<VmPool> {
    return this.exclusively(id, async () => {
      if (input.size !== undefined) this.checkShrinkable(id, input.size);
      const pool = await inTransaction(this.orm, async (em) => {
        const pool = await em.findOne(VmPool, { id });
        if (!pool) throw notFound('VM pool', id);
        if (input.template && (await findReferenced(em, Template, input.template, 'template')).id !== pool.templateId) throw conflict("a pool's template cannot change");
        if (input.cluster && (await findReferenced(em, Cluster, input.cluster, 'cluster')).id !== pool.clusterId) throw conflict("a pool's cluster cannot change");
        checkCounts(input.size ?? pool.size, input.prestartedVms ?? pool.prestartedVms);
        const { template: _template, cluster: _cluster, ...fields } = input;
        em.assign(pool, { ...defined(fields), updatedAt: Date.now() });
        return pool;
      });
      await this.grow(pool, correlationId);
      await this.shrink(pool, correlationId);
      return pool;
    });
  }

  /** Removes a pool whose VMs are all free: its VMs are stopped and removed by the pool's `remove` task. */
  async remove(id: string, correlationId: string | null): Promise<Task> {
    return this.exclusively(id, async () => {
      const pool = await this.get(id);
      const taken = this.members(id).filter((vm) => vm.allocatedTo);
      if (taken.length) throw conflict(`VM pool ${pool.name} has ${taken.length} VM(s) handed to users`);
      return this.scheduler.submit({ objectType: 'vm_pool', objectId: id, action: 'remove', correlationId });
    });
  }

  /**
   * Hands a free VM of the pool to the user, started: a prestarted one when
   * there is one. Requests for one pool are served one at a time, so no VM
   * is handed to two callers.
   */
  async allocate(poolId: string, userId: string, correlationId: string | null): Promise<VmRecord> {
    const claimed = await this.exclusively(poolId, async () => {
      const pool = await this.get(poolId);
      if (this.scheduler.isBusy(poolId)) throw conflict(`VM pool ${pool.name} is being removed`);
      const members = this.members(poolId);
      const mine = members.filter((vm) => vm.allocatedTo === userId).length;
      if (mine >= pool.maxUserVms) throw conflict(`you already have ${mine} VM(s) of pool ${pool.name}, its limit per user`);
      const free = members.filter((vm) => !vm.allocatedTo && this.scheduler.runningAction(vm.id) !== 'remove');
      const vm = free.find((candidate) => isRunning(candidate) && !this.scheduler.isBusy(candidate.id)) ?? free.find((candidate) => !this.scheduler.isBusy(candidate.id)) ?? free[0];
      if (!vm) throw conflict(`VM pool ${pool.name} has no free VM`);
      this.records.desiredStateAsked(vm.id, 'up');
      await this.records.allocate(vm.id, userId);
      return vm;
    });
    try {
      await this.startHanded(claimed, correlationId);
      return claimed;
    } catch (error) {
      await this.records.allocate(claimed.id, null);
      throw error;
    }
  }

  /** Starts a VM just handed to a user, unless it runs (or a start already in its queue makes it run). */
  private async startHanded(vm: VmRecord, correlationId: string | null): Promise<void> {
    if (vm.powerState === 'running' && !this.scheduler.isBusy(vm.id)) return;
    let task: Task;
    try {
      task = await this.vms.requestAction(vm.id, 'start', correlationId);
    } catch (error) {
      if (vm.powerState === 'running') return;
      throw error;
    }
    const ended = await this.scheduler.waitForEnd(task.id, 5 * 60_000);
    if (ended?.state === 'finished' || vm.powerState === 'running') return;
    throw new ServiceError(storedErrorKind(ended?.errorKind, 'timeout'), ended?.errorReason ?? 'Operation Failed', ended?.errorDetail ?? `VM ${vm.name} did not start in time`);
  }

  /**
   * One round of keeping every pool as configured: VMs of automatic pools
   * that their users shut down become free, and free VMs are started until
   * `prestarted_vms` of them run. A pool waits while a host of its VMs has not
   * reported since its session began, and leaves VMs on hosts that stopped
   * responding alone: their state is not known.
   */
  async reconcile(): Promise<void> {
    for (const pool of await this.list()) {
      if (this.scheduler.isBusy(pool.id)) continue;
      const all = this.members(pool.id);
      if (all.some((vm) => this.records.host(vm.hostId)?.status === 'connecting')) continue;
      const members = all.filter((vm) => this.isKnown(vm));
      await this.exclusively(pool.id, async () => {
        for (const vm of members) {
          if (pool.poolType === 'automatic' && vm.allocatedTo && vm.desiredState === 'down' && !isRunning(vm) && !this.scheduler.isBusy(vm.id)) {
            await this.records.allocate(vm.id, null);
          }
        }
      });
      const free = members.filter((vm) => !vm.allocatedTo);
      const up = free.filter((vm) => isRunning(vm) || this.scheduler.runningAction(vm.id) === 'start').length;
      const startable = free.filter((vm) => !isRunning(vm) && !this.scheduler.isBusy(vm.id) && (this.startFailures.get(vm.id) ?? 0) < Date.now());
      for (const vm of startable.slice(0, Math.max(0, pool.prestartedVms - up))) {
        await this.vms.requestAction(vm.id, 'start', null).catch((error: unknown) => {
          this.startFailures.set(vm.id, Date.now() + 30_000);
          this.log.warn({ err: error, vm: vm.id, pool: pool.id }, 'could not prestart a pool VM; retrying in 30 s');
        });
      }
    }
  }

  /** Whether the VM's state is as its host last reported in this run: it is on no host, or on one that is up. */
  private isKnown(vm: VmRecord): boolean {
    return vm.hostId === null || this.records.host(vm.hostId)?.status === 'up';
  }

  private async grow(pool: VmPool, correlationId: string | null): Promise<void> {
    const members = this.members(pool.id);
    const taken = new Set(members.map((vm) => vm.name));
    let number = 1;
    for (let count = members.length; count < pool.size; count++) {
      while (taken.has(`${pool.name}-${number}`)) number++;
      const name = `${pool.name}-${number}`;
      taken.add(name);
      await this.vms.create({ name, cluster: { id: pool.clusterId }, template: { id: pool.templateId }, vmPoolId: pool.id }, correlationId);
    }
  }

  /** The VMs a pool would give up to shrink to `size`; refuses when too few of its VMs are free, down and idle. */
  private checkShrinkable(poolId: string, size: number): VmRecord[] {
    const members = this.members(poolId);
    const excess = members.length - size;
    if (excess <= 0) return [];
    const removable = members.filter((vm) => !vm.allocatedTo && !isRunning(vm) && !this.scheduler.isBusy(vm.id)).reverse();
    if (removable.length < excess) {
      throw conflict(`the VM pool can shrink by ${removable.length} VM(s) now, not ${excess}: the others are running, busy or handed to users`);
    }
    return removable.slice(0, excess);
  }

  private async shrink(pool: VmPool, correlationId: string | null): Promise<void> {
    for (const vm of this.checkShrinkable(pool.id, pool.size)) await this.vms.requestAction(vm.id, 'remove', correlationId);
  }

  private exclusively<T>(poolId: string, work: () => Promise<T>): Promise<T> {
    return this.locks.run(poolId, work);
  }
}

function checkCounts(size: number, prestarted: number): void {
  if (size < 0 || size > maxPoolSize) throw invalid(`vm_pool.size must be between 0 and ${maxPoolSize}`);
  if (prestarted > size) throw invalid(`vm_pool.prestarted_vms (${prestarted}) cannot exceed vm_pool.size (${size})`);
}
