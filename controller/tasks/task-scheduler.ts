import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Orm } from '../db/orm.js';
import { Task, type TaskObjectType, type TaskState } from '../db/entities.js';
import { terminalTaskStates } from '../rules/states.js';
import { NotYet, ServiceError, notFound } from '../rules/errors.js';
import { insertRow, reader, updateRow } from '../db/store.js';
import { outsideRequests, type JobRecorder } from './jobs.js';

/**
 * Carries out the tasks of one kind of action. A runner is given every task
 * of its actions, in order per object; `run` may be called again for a task
 * after a controller restart, so it must be safe to repeat (commands reuse
 * ids derived from the task id, which agents answer once).
 *
 * `plan` and `run` may throw NotYet when what the task needs is not known
 * yet (a host has not reported since its session began, say): the task then
 * waits, still queued and cancellable, until the NotYet's promise resolves,
 * and is planned (or run) again. A NotYet must resolve in bounded time; the
 * hosts' promises do, since a host that stays `connecting` becomes
 * `non_responsive`.
 */
export interface TaskRunner {
  /**
   * Plans a task that is about to run: it may set the task's host and
   * command, reserve resources, or refuse by throwing a ServiceError (then
   * the task fails, or, when planning happens at submission, is never
   * stored).
   */
  plan?(task: Task): void | Promise<void>;
  /** Takes in that the task's row holds its plan: its host and command are on record. */
  stored?(task: Task): void;
  /** Performs the task; a ServiceError fails it with that error. */
  run(task: Task): Promise<void>;
  /** Frees what `plan` reserved; called once the task ended or was not stored. */
  release?(task: Task): void;
}

/**
 * What services and queries may do with tasks: submit them, cancel queued
 * ones, wait for their end and ask what runs on an object. Registering
 * runners, recovering and stopping belong to the composition root.
 */
export type TaskQueue = Pick<TaskScheduler, 'submit' | 'cancel' | 'waitForEnd' | 'openTask' | 'runningAction' | 'isBusy'>;

/** What a caller asks of the scheduler. */
export interface TaskRequest {
  objectType: TaskObjectType;
  objectId: string;
  action: string;
  /** The VM the task concerns, when it is not the object itself. */
  vmId?: string | null;
  params?: object;
  correlationId?: string | null;
  /** The job the task is a step of; by default the job of the request it is submitted within, if any (see jobs.ts). */
  jobId?: string | null;
}

export function isTerminal(task: Task): boolean {
  return terminalTaskStates.has(task.state);
}

export function paramsOf<T>(task: Task): T {
  return (task.params ? JSON.parse(task.params) : {}) as T;
}

/**
 * Runs tasks: in submission order per object, concurrently across objects.
 * Every task is written to the database before it is acknowledged and its
 * state changes are persisted, so a restarted controller picks up where it
 * left off: queued tasks run, and running tasks are run again (their runner
 * makes that safe). A task that can run at once is planned before it is
 * stored, so it is stored already running with its host and command, and a
 * task its runner refuses is never stored.
 */
export class TaskScheduler {
  private readonly queues = new Map<string, Task[]>();
  private readonly runners = new Map<string, TaskRunner>();
  /** Submissions (planning and insert) of tasks; the drain runs a task only once its submission ended, so it never runs a task still being planned or not yet stored. */
  private readonly storing = new WeakMap<Task, Promise<unknown>>();
  private readonly ended = new EventEmitter();
  private readonly endListeners: Array<(task: Readonly<Task>) => void> = [];
  private lastSeq = 0;
  private stopping = false;

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly jobs?: JobRecorder,
  ) {
    this.ended.setMaxListeners(0);
  }

  /** Calls `listener` with every task that ends (finished, failed or cancelled), once its end is recorded in memory. */
  whenEnded(listener: (task: Readonly<Task>) => void): void {
    this.endListeners.push(listener);
  }

  /** Makes `runner` carry out the tasks of `objectType` with any of `actions`. */
  register(objectType: TaskObjectType, actions: readonly string[], runner: TaskRunner): void {
    for (const action of actions) this.runners.set(`${objectType}:${action}`, runner);
  }

  async recover(): Promise<void> {
    const em = reader(this.orm);
    const [{ max } = { max: 0 }] = await em.getConnection().execute('select max(seq) as max from tasks');
    this.lastSeq = Number(max ?? 0);
    const open = await em.find(Task, { state: { $in: ['queued', 'running'] } }, { orderBy: { seq: 'asc' } });
    for (const task of open) this.enqueue(task);
    if (open.length) this.log.info({ tasks: open.length }, 'resuming tasks left by the previous run');
  }

  async submit(request: TaskRequest): Promise<Task> {
    if (this.stopping) throw new ServiceError('unavailable', 'Shutting Down', 'the controller is shutting down');
    const runner = this.runnerOf(request.objectType, request.action);
    const task = Object.assign(new Task(), {
      id: randomUUID(),
      seq: ++this.lastSeq,
      objectType: request.objectType,
      objectId: request.objectId,
      vmId: request.vmId ?? (request.objectType === 'vm' ? request.objectId : null),
      action: request.action,
      params: request.params ? JSON.stringify(request.params) : null,
      correlationId: request.correlationId ?? null,
      createdAt: Date.now(),
      state: 'queued' as TaskState,
    });
    const queue = this.queues.get(task.objectId) ?? [];
    const draining = queue.length > 0;
    const idle = queue.every(isTerminal);
    queue.push(task);
    this.queues.set(task.objectId, queue);
    const stored = (async () => {
      const step = await this.jobs?.stepOf(task, request.jobId);
      task.jobId = step?.jobId ?? null;
      task.stepDescription = step?.description ?? null;
      if (idle) await this.prepare(task, runner).catch((error: unknown) => {
        if (!(error instanceof NotYet)) throw error;
      });
      await step?.store();
      await insertRow(this.orm, 'tasks', task);
      if (task.state === 'running') runner.stored?.(task);
    })();
    this.storing.set(task, stored.catch(() => undefined));
    try {
      await stored;
    } catch (error) {
      queue.splice(queue.indexOf(task), 1);
      runner.release?.(task);
      if (!draining && queue.length) this.startDrain(task.objectId);
      else if (!draining) this.queues.delete(task.objectId);
      throw error;
    }
    if (!draining) this.startDrain(task.objectId);
    return task;
  }

  async cancel(taskId: string): Promise<Task> {
    const task = await reader(this.orm).findOne(Task, { id: taskId });
    if (!task) throw notFound('task', taskId);
    const queue = this.queues.get(task.objectId);
    const queued = queue?.find((candidate) => candidate.id === taskId);
    if (!queued || queued.state !== 'queued') {
      throw new ServiceError('conflict', 'Operation Failed', `task ${taskId} is ${queued?.state ?? task.state}; only queued tasks can be cancelled`);
    }
    queue!.splice(queue!.indexOf(queued), 1);
    await this.finish(queued, 'cancelled');
    return queued;
  }

  /** The action of the task running on the object, if one is. */
  runningAction(objectId: string): string | undefined {
    const head = this.queues.get(objectId)?.[0];
    return head?.state === 'running' ? head.action : undefined;
  }

  /** Whether the object has tasks queued or running. */
  isBusy(objectId: string): boolean {
    return this.queues.get(objectId)?.some((task) => !isTerminal(task)) ?? false;
  }

  /** Resolves with the task once it has ended, or undefined after timeoutMs. */
  async waitForEnd(taskId: string, timeoutMs: number): Promise<Task | undefined> {
    const task = this.openTask(taskId) ?? (await reader(this.orm).findOne(Task, { id: taskId }));
    if (!task) throw notFound('task', taskId);
    if (isTerminal(task)) return task;
    return new Promise((resolve) => {
      const onEnd = (ended: Task) => {
        clearTimeout(timer);
        resolve(ended);
      };
      const timer = setTimeout(() => {
        this.ended.off(taskId, onEnd);
        resolve(undefined);
      }, timeoutMs);
      this.ended.once(taskId, onEnd);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
  }

  private runnerOf(objectType: string, action: string): TaskRunner {
    const runner = this.runners.get(`${objectType}:${action}`);
    if (!runner) throw new ServiceError('invalid', 'Invalid request', `there is no ${action} task for a ${objectType.replace('_', ' ')}`);
    return runner;
  }

  /** A task that is queued or running, or has just ended and is still being written; undefined otherwise. */
  openTask(taskId: string): Task | undefined {
    for (const queue of this.queues.values()) {
      const found = queue.find((task) => task.id === taskId);
      if (found) return found;
    }
    return undefined;
  }

  private enqueue(task: Task): void {
    const queue = this.queues.get(task.objectId);
    if (queue) {
      queue.push(task);
      return;
    }
    this.queues.set(task.objectId, [task]);
    this.startDrain(task.objectId);
  }

  /** Drains an object's queue apart from the request that started it: the tasks a drain runs are not that request's. */
  private startDrain(key: string): void {
    outsideRequests(() => void this.drain(key));
  }

  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.length && !this.stopping) {
      const task = queue[0]!;
      await this.storing.get(task);
      if (queue[0] !== task) continue;
      await this.execute(task).catch((error) => this.log.error({ err: error, task: task.id }, 'task bookkeeping failed'));
      if (queue[0] === task) queue.shift();
    }
    if (!this.stopping) this.queues.delete(key);
  }

  private async prepare(task: Task, runner: TaskRunner): Promise<void> {
    await runner.plan?.(task);
    task.state = 'running';
    task.startedAt = Date.now();
  }

  /** Runs `step` until it does not answer NotYet, waiting for each NotYet; false when the task was cancelled meanwhile. */
  private async whenReady(task: Task, step: () => Promise<void>): Promise<boolean> {
    for (;;) {
      try {
        await step();
        return true;
      } catch (error) {
        if (!(error instanceof NotYet)) throw error;
        this.log.info({ task: task.id, reason: error.message }, 'task waits');
        await error.until;
        if (this.stopping || isTerminal(task)) return false;
      }
    }
  }

  private async execute(task: Task): Promise<void> {
    let runner: TaskRunner | undefined;
    let failure: ServiceError | undefined;
    try {
      runner = this.runnerOf(task.objectType, task.action);
      const planner = runner;
      if (task.state === 'queued') {
        if (!(await this.whenReady(task, () => this.prepare(task, planner)))) return;
        await updateRow(this.orm, 'tasks', 'id', task.id, { state: 'running', startedAt: task.startedAt, hostId: task.hostId, commandKind: task.commandKind });
        runner.stored?.(task);
      }
      if (!(await this.whenReady(task, () => planner.run(task)))) return;
    } catch (error) {
      failure = error instanceof ServiceError ? error : new ServiceError('failed', 'Operation Failed', String((error as Error)?.message ?? error));
      if (!(error instanceof ServiceError)) this.log.error({ err: error, task: task.id }, 'task failed unexpectedly');
    }
    runner?.release?.(task);
    if (this.stopping) return;
    await this.finish(task, failure ? 'failed' : 'finished', failure);
  }

  /**
   * Ends a task. Waiters hear of the end at once, while the row is written:
   * the outcome is settled (an agent answers a repeated command with its
   * first outcome), so a crash before the write only makes the task run
   * again to the same end. The object's next task waits for the write, and
   * until then readers get the task from `openTask`. The task's parameters
   * go with its end: nothing reads them afterwards, and they may hold a
   * secret (a start's one-time cloud-init password).
   */
  private async finish(task: Task, state: TaskState, error?: ServiceError): Promise<void> {
    task.state = state;
    task.params = null;
    task.endedAt = Date.now();
    task.errorKind = error?.kind ?? null;
    task.errorReason = error?.reason ?? null;
    task.errorDetail = error?.detail ?? null;
    const written = updateRow(this.orm, 'tasks', 'id', task.id, {
      state,
      params: null,
      endedAt: task.endedAt,
      errorKind: task.errorKind,
      errorReason: task.errorReason,
      errorDetail: task.errorDetail,
      description: task.description,
    });
    this.ended.emit(task.id, task);
    for (const listener of this.endListeners) {
      try {
        listener(task);
      } catch (error) {
        this.log.error({ err: error, task: task.id }, 'a task end listener failed');
      }
    }
    await written;
  }
}
