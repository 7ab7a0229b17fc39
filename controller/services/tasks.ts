import type { Orm } from '../db/orm.js';
import { Host, Task, Vm } from '../db/entities.js';
import type { TaskScheduler } from '../scheduler/task-scheduler.js';
import { notFound } from './errors.js';
import { reader } from './store.js';

export class TaskService {
  constructor(
    private readonly orm: Orm,
    private readonly scheduler: TaskScheduler,
  ) {}

  list(): Promise<Task[]> {
    return reader(this.orm).find(Task, {}, { orderBy: { seq: 'desc' }, limit: 1000 });
  }

  async listForVm(vmId: string): Promise<Task[]> {
    const em = reader(this.orm);
    if (!(await em.count(Vm, { id: vmId }))) throw notFound('VM', vmId);
    return em.find(Task, { vmId }, { orderBy: { seq: 'desc' } });
  }

  async listForHost(hostId: string): Promise<Task[]> {
    const em = reader(this.orm);
    if (!(await em.count(Host, { id: hostId }))) throw notFound('host', hostId);
    return em.find(Task, { hostId }, { orderBy: { seq: 'desc' }, limit: 1000 });
  }

  async get(id: string, waitSeconds = 0): Promise<Task> {
    if (waitSeconds > 0) {
      const ended = await this.scheduler.waitForEnd(id, waitSeconds * 1000);
      if (ended) return ended;
    }
    const task = await reader(this.orm).findOne(Task, { id });
    if (!task) throw notFound('task', id);
    return task;
  }

  waitForEnd(id: string, timeoutMs: number): Promise<Task | undefined> {
    return this.scheduler.waitForEnd(id, timeoutMs);
  }

  cancel(id: string): Promise<Task> {
    return this.scheduler.cancel(id);
  }
}
