import type { ApiRouter } from '../routing.js';
import type { Task } from '../../db/entities.js';
import type { TaskService } from '../../services/tasks.js';
import type { Services } from '../services.js';
import { httpStatusOf } from '../errors.js';
import { respond, type ApiContext } from '../context.js';
import { queryInteger } from '../input/request.js';
import { ServiceError, storedErrorKind } from '../../rules/errors.js';
import { followable, ifMatch } from './steps.js';

/** How long a synchronous action waits for its task before answering 202 pending. */
export const syncActionWaitMs = 5 * 60 * 1000;

export async function answerWithTask(ctx: ApiContext, tasks: TaskService, task: Task, asynchronous: boolean): Promise<void> {
  const present = ctx.state.present;
  ctx.state.task = task;
  ctx.state.taskSubmitted?.(task);
  const ended = asynchronous ? undefined : await tasks.waitForEnd(task.id, syncActionWaitMs);
  if (!ended) {
    respond(ctx, 202, 'action', present.action(task, 'pending'));
  } else if (ended.state === 'finished') {
    respond(ctx, 200, 'action', present.action(ended, 'complete'));
  } else {
    const fault = { reason: ended.errorReason ?? 'Operation Failed', detail: ended.errorDetail ?? `the task was ${ended.state}` };
    respond(ctx, httpStatusOf[storedErrorKind(ended.errorKind, 'conflict')], 'action', present.action(ended, 'failed', fault));
  }
}

/**
 * Waits for a task whose outcome decides the answer (a device change, say):
 * resolves with the finished task, throws its error when it failed, or
 * answers 202 with the pending task and resolves undefined when it runs too long.
 */
export async function settled(ctx: ApiContext, tasks: TaskService, task: Task): Promise<Task | undefined> {
  ctx.state.task = task;
  ctx.state.taskSubmitted?.(task);
  const ended = await tasks.waitForEnd(task.id, syncActionWaitMs);
  if (!ended) {
    respond(ctx, 202, 'action', ctx.state.present.action(task, 'pending'));
    return undefined;
  }
  if (ended.state === 'finished') return ended;
  throw new ServiceError(storedErrorKind(ended.errorKind, 'conflict'), ended.errorReason ?? 'Operation Failed', ended.errorDetail ?? `the task was ${ended.state}`);
}

export function taskRoutes(router: ApiRouter, services: Services): void {
  const { tasks } = services;
  router.get('/tasks/:id', followable(services, 'task'), async (ctx) => {
    const wait = queryInteger(ctx, 'wait', 0, 3600) ?? 0;
    respond(ctx, 200, 'task', ctx.state.present.task(await tasks.get(ctx.params.id!, wait)));
  });
  router.delete('/tasks/:id', ifMatch(services, 'task'), async (ctx) => {
    const task = await tasks.cancel(ctx.params.id!);
    respond(ctx, 200, 'task', ctx.state.present.task(task));
  });
}
