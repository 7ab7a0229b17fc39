import type { Orm } from '../db/orm.js';
import type { Task } from '../db/entities.js';
import { runStatement } from '../db/store.js';
import { ServiceError } from '../rules/errors.js';
import { isRunning } from '../rules/power-states.js';
import type { Records } from '../state/records.js';
import type { TaskRunner, TaskScheduler } from './task-scheduler.js';

/** Stops and removes the VMs of a pool being removed, one after another, then the pool itself. */
export class VmPoolRunner implements TaskRunner {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly scheduler: TaskScheduler,
  ) {}

  async run(task: Task): Promise<void> {
    const members = [...this.records.vms.values()].filter((vm) => vm.vmPoolId === task.objectId);
    for (const vm of members) {
      for (const action of isRunning(vm) ? (['stop', 'remove'] as const) : (['remove'] as const)) {
        const step = await this.scheduler.submit({ objectType: 'vm', objectId: vm.id, action, correlationId: task.correlationId, jobId: task.jobId });
        const ended = await this.scheduler.waitForEnd(step.id, 10 * 60_000);
        if (ended?.state !== 'finished') {
          throw new ServiceError('failed', 'Operation Failed', `could not ${action} VM ${vm.name} of the pool: ${ended?.errorDetail ?? 'it did not end in time'}`);
        }
      }
    }
    await runStatement(this.orm, 'delete from vm_pools where id = ?', [task.objectId]);
  }
}
