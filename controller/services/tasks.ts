import type { Orm } from '../db/orm.js';
import { Task } from '../db/entities.js';
import type { TaskQueue } from '../tasks/task-scheduler.js';
import { notFound } from '../rules/errors.js';
import { reader } from '../db/store.js';

export class TaskService {
  constructor(
    private readonly orm: Orm,
    private readonly scheduler: TaskQueue,
  ) {}

  async get(id: string, waitSeconds = 0): Promise<Task> {
    if (waitSeconds > 0) {
      const ended = await this.scheduler.waitForEnd(id, waitSeconds * 1000);
      if (ended) return ended;
    }
    const task = this.scheduler.openTask(id) ?? (await reader(this.orm).findOne(Task, { id }));
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
