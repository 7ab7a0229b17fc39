import type { TestFn } from 'ava';
import pino from 'pino';
import type { Task } from '../../controller/db/entities.js';
import { TaskScheduler, type TaskRunner } from '../../controller/tasks/task-scheduler.js';
import { eventually } from '../support/eventually.js';
import { openScratchDatabase, type DatabaseKind } from '../support/scratch-database.js';

type Test = TestFn<unknown>;

/** A runner whose plan and run wait until the test lets each call through, and which notes what it was asked. */
class HeldRunner implements TaskRunner {
  readonly calls: string[] = [];
  private readonly gates = new Map<string, () => void>();

  held(step: string): Promise<void> {
    return new Promise((resolve) => this.gates.set(step, resolve));
  }

  let(step: string): void {
    this.gates.get(step)?.();
  }

  async plan(task: Task): Promise<void> {
    this.calls.push(`plan ${task.action}`);
    if (task.action === 'second') await this.held('plan second');
  }

  async run(task: Task): Promise<void> {
    this.calls.push(`run ${task.action}`);
    if (task.action === 'first') await this.held('run first');
  }
}

/** Registers the scheduler's ordering scenarios, on a real database of one kind. */
export function taskSchedulerSuite(test: Test, database: DatabaseKind): void {
  test(`[${database}] a task submitted behind another is run only after its own submission has planned and stored it, even when the task ahead ends meanwhile`, async (t) => {
    const orm = await openScratchDatabase(t, database, 'scheduler');
    const scheduler = new TaskScheduler(orm, pino({ level: 'silent' }));
    const runner = new HeldRunner();
    scheduler.register('vm', ['first', 'second'], runner);
    const objectId = '00000000-0000-4000-8000-000000000001';

    const first = await scheduler.submit({ objectType: 'vm', objectId, action: 'first' });
    await eventually(() => runner.calls.includes('run first'), 'the first task to run');
    const firstEnded = scheduler.waitForEnd(first.id, 60_000);
    runner.let('run first');
    t.is((await firstEnded)?.state, 'finished');
    t.truthy(scheduler.openTask(first.id), 'waiters hear of the end while the row is still being written');

    const second = scheduler.submit({ objectType: 'vm', objectId, action: 'second' });
    await eventually(() => scheduler.openTask(first.id) === undefined, 'the first task to leave the queue once written');
    t.deepEqual(runner.calls, ['plan first', 'run first', 'plan second'], 'the second task is neither planned again nor run while its submission plans it');

    runner.let('plan second');
    const secondTask = await second;
    t.is((await scheduler.waitForEnd(secondTask.id, 60_000))?.state, 'finished');
    t.deepEqual(runner.calls, ['plan first', 'run first', 'plan second', 'run second']);
    await eventually(() => scheduler.openTask(secondTask.id) === undefined, 'the second task to leave the queue once written');
    const [row] = (await orm.em.fork().getConnection().execute('select state from tasks where id = ?', [secondTask.id])) as { state: string }[];
    t.is(row?.state, 'finished', 'the stored row says how the task ended');
  });
}
