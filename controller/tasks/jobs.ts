import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import type { Task, TaskObjectType } from '../db/entities.js';
import { insertRow, selectRows } from '../db/store.js';
import { describeTask } from '../rules/jobs.js';
import type { Records } from '../state/records.js';

/**
 * The request a task is submitted within: its correlation id and user, and
 * its job once its first task was stored. A request is open until it has
 * been answered; a task submitted outside any open request (a host coming
 * back, a pool keeping its VMs started) belongs to no job.
 */
export interface RequestScope {
  correlationId: string;
  ownerId: string | null;
  open: boolean;
  job?: { id: string; stored?: Promise<void> };
}

/** The job a task is a step of, and the step's description; `store` writes the job's row, when it is a request's and not written yet, before the task's own. */
export interface JobStepOf {
  jobId: string;
  description: string;
  store(): Promise<void>;
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

const stored = async (): Promise<void> => undefined;

/**
 * Makes the job of a request when the request's first task is stored (a
 * task refused before it was stored makes none), and names it after that
 * task.
 */
export class JobRecorder {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
  ) {}

  /**
   * The job a task submitted now is a step of: the job given (a runner's
   * task submitted for its own task's job), else the open request's; none
   * outside both.
   */
  async stepOf(task: Task, given: string | null | undefined): Promise<JobStepOf | undefined> {
    const scope = given === undefined ? scopes.getStore() : undefined;
    if (given === null || (given === undefined && !scope?.open)) return undefined;
    const description = describeTask(task.objectType, task.action, await this.nameOf(task.objectType, task.objectId));
    if (given !== undefined) return { jobId: given, description, store: stored };
    const job = (scope!.job ??= { id: randomUUID() });
    return {
      jobId: job.id,
      description,
      store: () => (job.stored ??= this.create(scope!, job.id, description).catch((error: unknown) => {
        job.stored = undefined;
        throw error;
      })),
    };
  }

  /** The name of the object a task acts on, for its description; its id when the object is gone. */
  async nameOf(objectType: TaskObjectType, objectId: string): Promise<string> {
    if (objectType === 'vm') return this.records.vm(objectId)?.name ?? objectId;
    const [row] = await selectRows<{ name: string }>(this.orm, `select name from ${objectTables[objectType]} where id = ?`, [objectId]);
    return row?.name ?? objectId;
  }

  private async create(scope: RequestScope, id: string, description: string): Promise<void> {
    const now = Date.now();
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
  }
}
