import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import type { Task, TaskObjectType } from '../db/entities.js';
import { insertRow, selectRows } from '../db/store.js';
import { describeTask } from '../rules/jobs.js';
import type { Records } from '../state/records.js';

/**
 * The request a task is submitted within: its correlation id and user, and
 * its job once its first task made one. A request is open until it has been
 * answered; a task submitted outside any open request (a host coming back,
 * a pool keeping its VMs started) belongs to no job.
 */
export interface RequestScope {
  correlationId: string;
  ownerId: string | null;
  open: boolean;
  job?: Promise<string>;
}

const scopes = new AsyncLocalStorage<RequestScope>();

/** Runs a request's work so that the tasks it submits make one job, and closes the scope when the work ends. */
export async function withinRequest<T>(scope: RequestScope, work: () => Promise<T>): Promise<T> {
  try {
    return await scopes.run(scope, work);
  } finally {
    scope.open = false;
  }
}

/** Runs work that outlives the request that started it (a queue's drain) outside the request's scope. */
export function outsideRequests<T>(work: () => T): T {
  return scopes.exit(work);
}

const objectTables: Record<Exclude<TaskObjectType, 'vm'>, string> = {
  disk: 'disks',
  storage_domain: 'storage_domains',
  template: 'templates',
  vm_pool: 'vm_pools',
  host: 'hosts',
};

/** Makes the job of a request when the request submits its first task, and names it after that task. */
export class JobRecorder {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
  ) {}

  /**
   * The job a task submitted now is a step of, and the step's description:
   * the job given (a runner's task submitted for its own task's job), else
   * the open request's (made on its first task); none outside both.
   */
  async stepOf(task: Task, given: string | null | undefined): Promise<{ jobId: string; description: string } | undefined> {
    let jobId: Promise<string> | undefined;
    if (given !== undefined) jobId = given === null ? undefined : Promise.resolve(given);
    else {
      const scope = scopes.getStore();
      if (scope?.open) jobId = scope.job ??= this.create(scope, task);
    }
    if (!jobId) return undefined;
    const [id, name] = await Promise.all([jobId, this.nameOf(task.objectType, task.objectId)]);
    return { jobId: id, description: describeTask(task.objectType, task.action, name) };
  }

  /** The name of the object a task acts on, for its description; its id when the object is gone. */
  async nameOf(objectType: TaskObjectType, objectId: string): Promise<string> {
    if (objectType === 'vm') return this.records.vm(objectId)?.name ?? objectId;
    const [row] = await selectRows<{ name: string }>(this.orm, `select name from ${objectTables[objectType]} where id = ?`, [objectId]);
    return row?.name ?? objectId;
  }

  private async create(scope: RequestScope, task: Task): Promise<string> {
    const id = randomUUID();
    const now = Date.now();
    const description = describeTask(task.objectType, task.action, await this.nameOf(task.objectType, task.objectId));
    await insertRow(this.orm, 'jobs', {
      id,
      correlationId: scope.correlationId,
      description,
      ownerId: scope.ownerId,
      external: false,
      autoCleared: true,
      status: null,
      startTime: now,
      endTime: null,
      lastUpdated: now,
    });
    return id;
  }
}
