import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { Orm } from '../db/orm.js';
import { Job, JobStep, Task } from '../db/entities.js';
import type { Dialect } from '../db/dialect.js';
import { insertRow, reader, runStatement, selectRows, updateRow } from '../db/store.js';
import { ServiceError, notFound } from '../rules/errors.js';
import { describeTask, jobStatusOfTasks, jobStatusSql, stepStatusOfTask, type EndedJobStatus, type JobStatus, type StepType } from '../rules/jobs.js';

/** A job as the API shows it: its row, with what a job of tasks derives from its tasks. */
export interface JobView {
  job: Job;
  status: JobStatus;
  endTime: number | null;
  lastUpdated: number;
}

/** A step as the API shows it: a task of a job of tasks (its id is the task's), or a step of an external job. */
export interface StepView {
  id: string;
  jobId: string;
  number: number;
  type: StepType;
  description: string;
  status: JobStatus;
  startTime: number | null;
  endTime: number | null;
  external: boolean;
  taskId: string | null;
}

interface TaskAggregate {
  job_id: string;
  open: number | string;
  failed: number | string;
  cancelled: number | string;
  ended: number | string | null;
  updated: number | string | null;
}

/** Completes job rows into the views the API shows, reading their tasks' states in one statement. */
export async function jobViews(em: EntityManager | Orm, dialect: Dialect, jobs: ReadonlyMap<string, Job>): Promise<Map<string, JobView>> {
  const internal = [...jobs.values()].filter((job) => !job.external).map((job) => job.id);
  const aggregates = internal.length
    ? await selectRows<TaskAggregate>(
        em,
        `select job_id,
          sum(case when state in ('queued', 'running') then 1 else 0 end) as open,
          sum(case when state = 'failed' then 1 else 0 end) as failed,
          sum(case when state = 'cancelled' then 1 else 0 end) as cancelled,
          max(ended_at) as ended,
          max(coalesce(ended_at, started_at, created_at)) as updated
        from tasks where ${dialect.inList('job_id', internal.length)} group by job_id`,
        [dialect.listParam(internal)],
      )
    : [];
  const byJob = new Map(aggregates.map((row) => [row.job_id, row]));
  const views = new Map<string, JobView>();
  for (const [id, job] of jobs) {
    if (job.external) {
      views.set(id, { job, status: job.status ?? 'unknown', endTime: job.endTime, lastUpdated: job.lastUpdated });
      continue;
    }
    const tasks = byJob.get(id);
    const status = jobStatusOfTasks({ open: Number(tasks?.open ?? 0), failed: Number(tasks?.failed ?? 0), cancelled: Number(tasks?.cancelled ?? 0) });
    const lastUpdated = Math.max(job.lastUpdated, Number(tasks?.updated ?? 0));
    views.set(id, { job, status, endTime: status === 'started' ? null : tasks?.ended == null ? job.lastUpdated : Number(tasks.ended), lastUpdated });
  }
  return views;
}

/** What `end` of a job or a step asks for: the status it ends with, and whether to abort its unfinished steps. */
export interface EndRequest {
  status: EndedJobStatus;
  force: boolean;
}

/**
 * Jobs as oVirt shows them: the jobs of requests (made by the task engine,
 * tasks/jobs.ts) and the external jobs outside systems report, with their
 * steps. A job of tasks cannot be changed through the API; an external one
 * is ended and cleared by its reporter.
 */
export class JobService {
  constructor(
    private readonly orm: Orm,
    private readonly dialect: Dialect,
  ) {}

  async get(id: string): Promise<JobView> {
    const job = await reader(this.orm).findOne(Job, { id });
    if (!job) throw notFound('job', id);
    return (await jobViews(this.orm, this.dialect, new Map([[id, job]]))).get(id)!;
  }

  /** The steps of a job, in their order: its tasks in submission order, or an external job's steps. */
  async steps(jobId: string): Promise<StepView[]> {
    const { job } = await this.get(jobId);
    const em = reader(this.orm);
    if (job.external) {
      const steps = await em.find(JobStep, { jobId }, { orderBy: { number: 'asc' } });
      return steps.map((step) => ({ ...step, external: true, taskId: null }));
    }
    const tasks = await em.find(Task, { jobId }, { orderBy: { seq: 'asc' } });
    return tasks.map((task, index) => ({
      id: task.id,
      jobId,
      number: index + 1,
      type: 'executing' as const,
      description: task.stepDescription ?? describeTask(task.objectType, task.action, task.objectId),
      status: stepStatusOfTask[task.state],
      startTime: task.startedAt ?? task.createdAt,
      endTime: task.endedAt,
      external: false,
      taskId: task.id,
    }));
  }

  async step(jobId: string, stepId: string): Promise<StepView> {
    const found = (await this.steps(jobId)).find((step) => step.id === stepId);
    if (!found) throw notFound('step', stepId);
    return found;
  }

  /** Adds an external job, started now, owned by the user who reports it. */
  async addExternal(input: { description: string; autoCleared: boolean; correlationId: string; ownerId: string | null }): Promise<JobView> {
    const now = Date.now();
    const job = Object.assign(new Job(), {
      id: randomUUID(),
      correlationId: input.correlationId,
      description: input.description,
      ownerId: input.ownerId,
      external: true,
      autoCleared: input.autoCleared,
      status: 'started' as JobStatus,
      startTime: now,
      endTime: null,
      lastUpdated: now,
    });
    await insertRow(this.orm, 'jobs', job);
    return { job, status: 'started', endTime: null, lastUpdated: now };
  }

  /** Adds a step to a started external job, numbered after its others. */
  async addStep(jobId: string, input: { description: string; type: StepType }): Promise<StepView> {
    const { job, status } = await this.get(jobId);
    this.checkExternal(job, 'add steps to');
    if (status !== 'started') throw new ServiceError('conflict', 'Operation Failed', `job ${jobId} has ended (${status}); steps can be added only to a started job`);
    const [counted] = await selectRows<{ last: number | string | null }>(this.orm, 'select max(number) as last from job_steps where job_id = ?', [jobId]);
    const now = Date.now();
    const step = Object.assign(new JobStep(), {
      id: randomUUID(),
      jobId,
      number: Number(counted?.last ?? 0) + 1,
      type: input.type,
      description: input.description,
      status: 'started' as JobStatus,
      startTime: now,
      endTime: null,
    });
    await insertRow(this.orm, 'job_steps', step);
    await updateRow(this.orm, 'jobs', 'id', jobId, { lastUpdated: now });
    return { ...step, external: true, taskId: null };
  }

  /** Ends a started step of an external job. */
  async endStep(jobId: string, stepId: string, status: EndedJobStatus): Promise<StepView> {
    const { job } = await this.get(jobId);
    this.checkExternal(job, 'end steps of');
    const step = await this.step(jobId, stepId);
    if (step.status !== 'started') throw new ServiceError('conflict', 'Operation Failed', `step ${stepId} has ended already (${step.status})`);
    const now = Date.now();
    await updateRow(this.orm, 'job_steps', 'id', stepId, { status, endTime: now });
    await updateRow(this.orm, 'jobs', 'id', jobId, { lastUpdated: now });
    return { ...step, status, endTime: now };
  }

  /**
   * Ends a started external job with the status asked for. With `force`, as
   * oVirt does, the job is also marked to be cleared and its steps still
   * started are aborted.
   */
  async end(jobId: string, request: EndRequest): Promise<JobView> {
    const { job, status } = await this.get(jobId);
    this.checkExternal(job, 'end');
    if (status !== 'started') throw new ServiceError('conflict', 'Operation Failed', `job ${jobId} has ended already (${status})`);
    const now = Date.now();
    await updateRow(this.orm, 'jobs', 'id', jobId, { status: request.status, endTime: now, lastUpdated: now, ...(request.force ? { autoCleared: true } : {}) });
    if (request.force) await runStatement(this.orm, "update job_steps set status = 'aborted', end_time = ? where job_id = ? and status = 'started'", [now, jobId]);
    return this.get(jobId);
  }

  /** Marks an external job to be cleared by the system once it has ended (oVirt's `clear`). */
  async clear(jobId: string): Promise<JobView> {
    const { job } = await this.get(jobId);
    this.checkExternal(job, 'clear');
    await updateRow(this.orm, 'jobs', 'id', jobId, { autoCleared: true, lastUpdated: Date.now() });
    return this.get(jobId);
  }

  /**
   * Removes the ended jobs marked to be cleared (every job of tasks is), as
   * oVirt's engine cleans its jobs up: those that finished longer than
   * `succeededMs` ago, and those that failed or were aborted longer than
   * `failedMs` ago. Their tasks stay. Answers how many were removed.
   */
  async prune(now: number, succeededMs: number, failedMs: number): Promise<number> {
    const endTime = 'coalesce(t.end_time, (select max(k.ended_at) from tasks k where k.job_id = t.id))';
    const status = jobStatusSql('t');
    const candidates = await selectRows<{ id: string }>(
      this.orm,
      `select t.id from jobs t where t.auto_cleared = ? and ((${status} = 'finished' and ${endTime} < ?) or (${status} in ('failed', 'aborted') and ${endTime} < ?))`,
      [true, now - succeededMs, now - failedMs],
    );
    if (candidates.length === 0) return 0;
    const ids = candidates.map((row) => row.id);
    await runStatement(this.orm, `delete from job_steps where ${this.dialect.inList('job_id', ids.length)}`, [this.dialect.listParam(ids)]);
    await runStatement(this.orm, `delete from jobs where ${this.dialect.inList('id', ids.length)}`, [this.dialect.listParam(ids)]);
    return ids.length;
  }

  private checkExternal(job: Job, what: string): void {
    if (!job.external) throw new ServiceError('conflict', 'Operation Failed', `job ${job.id} is not external: Drover's own jobs end with their tasks, and only external jobs can be told to ${what}`);
  }
}
