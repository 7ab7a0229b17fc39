import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { Cluster, Task, Vm } from '../db/entities.js';
import type { DisplayType } from '../../shared/model.js';
import type { TaskScheduler } from '../scheduler/task-scheduler.js';
import type { VmAction } from '../scheduler/vm-actions.js';
import { conflict, notFound } from './errors.js';
import { findReferenced, inTransaction, type Reference } from './store.js';
import type { Records } from './records.js';
import { defined } from './datacenters.js';
import { vmStatus, type VmStatus } from './vm-status.js';

export interface VmInput {
  name?: string;
  description?: string;
  memoryBytes?: number;
  cpu?: { sockets?: number; cores?: number; threads?: number };
  osType?: string;
  displayType?: DisplayType;
  cluster?: Reference;
}

/** A VM with what it takes to describe it: its status and its host's name. */
export interface VmView {
  vm: Vm;
  status: VmStatus;
}

export class VmService {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly scheduler: TaskScheduler,
  ) {}

  list(filter: { name?: string } = {}): VmView[] {
    const matches = filter.name === undefined ? () => true : wildcardMatcher(filter.name);
    const vms = [...this.records.vms.values()].filter((vm) => matches(vm.name)).sort((a, b) => a.name.localeCompare(b.name));
    return this.describe(vms);
  }

  get(id: string): VmView {
    const vm = this.records.vm(id);
    if (!vm) throw notFound('VM', id);
    return this.describe([vm])[0]!;
  }

  async create(input: VmInput & { name: string; memoryBytes: number; cluster: Reference }): Promise<VmView> {
    const vm = await inTransaction(this.orm, async (em) => {
      const cluster = await findReferenced(em, Cluster, input.cluster, 'cluster');
      const now = Date.now();
      return em.create(Vm, {
        id: randomUUID(),
        name: input.name,
        description: input.description ?? '',
        memoryBytes: input.memoryBytes,
        cpuSockets: input.cpu?.sockets ?? 1,
        cpuCores: input.cpu?.cores ?? 1,
        cpuThreads: input.cpu?.threads ?? 1,
        osType: input.osType ?? 'other',
        displayType: input.displayType ?? 'vnc',
        clusterId: cluster.id,
        desiredState: 'down',
        createdAt: now,
        updatedAt: now,
      });
    });
    this.records.putVm(vm);
    return this.get(vm.id);
  }

  async update(id: string, input: VmInput): Promise<VmView> {
    const updated = await inTransaction(this.orm, async (em) => {
      const vm = await em.findOne(Vm, { id });
      if (!vm) throw notFound('VM', id);
      if (input.cluster) {
        const cluster = await findReferenced(em, Cluster, input.cluster, 'cluster');
        if (cluster.id !== vm.clusterId && vm.hostId) throw conflict(`VM ${vm.name} is defined on a host; it cannot change cluster`);
        vm.clusterId = cluster.id;
      }
      const { cpu, cluster: _cluster, ...fields } = input;
      em.assign(vm, {
        ...defined(fields),
        cpuSockets: cpu?.sockets ?? vm.cpuSockets,
        cpuCores: cpu?.cores ?? vm.cpuCores,
        cpuThreads: cpu?.threads ?? vm.cpuThreads,
        updatedAt: Date.now(),
      });
      return vm;
    });
    this.records.putVm(updated);
    return this.get(id);
  }

  requestAction(id: string, action: VmAction, correlationId: string | null): Promise<Task> {
    return this.scheduler.submit(id, action, correlationId);
  }

  count(): { total: number; active: number } {
    let active = 0;
    for (const vm of this.records.vms.values()) if (vm.powerState === 'running' || vm.powerState === 'paused' || vm.powerState === 'shutting_down') active++;
    return { total: this.records.vms.size, active };
  }

  private describe(vms: Vm[]): VmView[] {
    return vms.map((vm) => ({
      vm,
      status: vmStatus(vm.powerState, vm.hostId, this.records.host(vm.hostId)?.status, this.scheduler.runningAction(vm.id)),
    }));
  }
}

function wildcardMatcher(pattern: string): (value: string) => boolean {
  const expression = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return (value) => expression.test(value);
}
