import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Orm } from '../db/orm.js';
import { Task, Vm, type TaskState } from '../db/entities.js';
import type { CommandErrorKind, CommandOutcome, VmSpec } from '../../shared/model.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { ServiceError, conflict, notFound } from '../services/errors.js';
import { insertRow, reader, updateRow } from '../services/store.js';
import type { Records } from '../services/records.js';
import { Placement } from './placement.js';
import { desiredStateAfter, planAction, type VmAction } from './vm-actions.js';

const outcomeErrors: Record<CommandErrorKind, (message: string) => ServiceError> = {
  invalid_state: (message) => conflict(message),
  domain_not_found: (message) => conflict(message),
  invalid_command: (message) => new ServiceError('failed', 'Operation Failed', message),
  hypervisor_failure: (message) => new ServiceError('failed', 'Operation Failed', message),
  timed_out: (message) => new ServiceError('timeout', 'Operation Timed Out', message),
};

export function specOf(vm: Vm): VmSpec {
  return {
    id: vm.id,
    name: vm.name,
    description: vm.description,
    memoryBytes: vm.memoryBytes,
    cpu: { sockets: vm.cpuSockets, cores: vm.cpuCores, threads: vm.cpuThreads },
    osType: vm.osType,
    displayType: vm.displayType,
    clusterId: vm.clusterId,
  };
}

const terminal: ReadonlySet<TaskState> = new Set(['finished', 'failed', 'cancelled']);

export function isTerminal(task: Task): boolean {
  return terminal.has(task.state);
}

/**
 * Runs tasks: in submission order per VM, concurrently across VMs. Every task
 * is written to the database before it is acknowledged and its state changes
 * are persisted, so a restarted controller picks up where it left off: queued
 * tasks run, and running tasks have their command sent again under the same
 * command id (the agent answers a repeat with the first outcome).
 */
export class TaskScheduler {
  private readonly queues = new Map<string, Task[]>();
  private readonly ended = new EventEmitter();
  private readonly placement: Placement;
  private lastSeq = 0;
  private stopping = false;

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly hub: AgentHub,
    private readonly log: Logger,
  ) {
    this.placement = new Placement(records, hub);
    this.ended.setMaxListeners(0);
  }

  async recover(): Promise<void> {
    const em = reader(this.orm);
    const [{ max } = { max: 0 }] = await em.getConnection().execute('select max(seq) as max from tasks');
    this.lastSeq = Number(max ?? 0);
    const open = await em.find(Task, { state: { $in: ['queued', 'running'] } }, { orderBy: { seq: 'asc' } });
    for (const task of open) this.enqueue(task);
    if (open.length) this.log.info({ tasks: open.length }, 'resuming tasks left by the previous run');
  }

  async submit(vmId: string, action: VmAction, correlationId: string | null): Promise<Task> {
    if (this.stopping) throw new ServiceError('unavailable', 'Shutting Down', 'the controller is shutting down');
    const vm = this.records.vm(vmId);
    if (!vm) throw notFound('VM', vmId);
    const task = Object.assign(new Task(), { id: randomUUID(), seq: ++this.lastSeq, vmId, action, correlationId, createdAt: Date.now(), state: 'queued' as TaskState });
    const queue = this.queues.get(vmId) ?? [];
    const idle = queue.length === 0;
    if (idle) this.prepare(task, vm);
    queue.push(task);
    this.queues.set(vmId, queue);
    try {
      await insertRow(this.orm, 'tasks', task);
    } catch (error) {
      queue.splice(queue.indexOf(task), 1);
      this.placement.release(task.id);
      if (idle && queue.length) void this.drain(vmId);
      else if (idle) this.queues.delete(vmId);
      throw error;
    }
    const desired = desiredStateAfter[action];
    if (desired && vm.desiredState !== desired) {
      this.records.updateVm(vmId, { desiredState: desired }).catch((error) => this.log.error({ err: error, vm: vmId }, 'could not record the desired state'));
    }
    if (idle) void this.drain(vmId);
    return task;
  }

  async cancel(taskId: string): Promise<Task> {
    const task = await reader(this.orm).findOne(Task, { id: taskId });
    if (!task) throw notFound('task', taskId);
    const queue = task.vmId ? this.queues.get(task.vmId) : undefined;
    const queued = queue?.find((candidate) => candidate.id === taskId);
    if (!queued || queued.state !== 'queued') throw conflict(`task ${taskId} is ${queued?.state ?? task.state}; only queued tasks can be cancelled`);
    queue!.splice(queue!.indexOf(queued), 1);
    await this.finish(queued, 'cancelled');
    return queued;
  }

  runningAction(vmId: string): VmAction | undefined {
    const head = this.queues.get(vmId)?.[0];
    return head?.state === 'running' ? (head.action as VmAction) : undefined;
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

  private openTask(taskId: string): Task | undefined {
    for (const queue of this.queues.values()) {
      const found = queue.find((task) => task.id === taskId);
      if (found) return found;
    }
    return undefined;
  }

  async stop(): Promise<void> {
    this.stopping = true;
  }

  private enqueue(task: Task): void {
    const key = task.vmId ?? task.id;
    const queue = this.queues.get(key);
    if (queue) {
      queue.push(task);
      return;
    }
    this.queues.set(key, [task]);
    void this.drain(key);
  }

  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key)!;
    while (queue.length && !this.stopping) {
      const task = queue[0]!;
      await this.execute(task).catch((error) => this.log.error({ err: error, task: task.id }, 'task bookkeeping failed'));
      if (queue[0] === task) queue.shift();
    }
    if (!this.stopping) this.queues.delete(key);
  }

  /** Plans a task that can run at once, so that it is stored already running with its host and command. */
  private prepare(task: Task, vm: Vm): void {
    const plan = planAction(task.action as VmAction, vm, this.records.host(vm.hostId)?.status);
    task.commandKind = plan.command;
    task.hostId = plan.command === 'start' ? this.placement.reserve(task.id, vm) : vm.hostId;
    task.state = 'running';
    task.startedAt = Date.now();
  }

  private async execute(task: Task): Promise<void> {
    const prepared = task.state === 'running' && (task.commandKind === null || task.hostId !== null);
    task.state = 'running';
    try {
      const vm = task.vmId ? this.records.vm(task.vmId) : undefined;
      if (!vm) throw notFound('VM', task.vmId ?? '');
      let hostId = task.hostId;
      let command = task.commandKind;
      if (!prepared) {
        this.prepare(task, vm);
        ({ hostId, commandKind: command } = task);
        await updateRow(this.orm, 'tasks', 'id', task.id, { state: 'running', startedAt: task.startedAt, hostId, commandKind: command });
      }
      if (command && hostId) {
        const outcome = await this.hub.dispatch(hostId, {
          commandId: task.id,
          taskId: task.id,
          kind: command,
          vmId: vm.id,
          spec: command === 'start' || command === 'define' ? specOf(vm) : undefined,
        });
        this.recordOutcome(vm, hostId, command, outcome);
        if (!outcome.ok) throw outcomeErrors[outcome.error](outcome.message);
      }
      if (task.action === 'remove') {
        await reader(this.orm).nativeDelete(Vm, { id: vm.id });
        this.records.dropVm(vm.id);
      }
      await this.finish(task, 'finished');
    } catch (error) {
      if (this.stopping) return;
      const failure = error instanceof ServiceError ? error : new ServiceError('failed', 'Operation Failed', String((error as Error)?.message ?? error));
      if (!(error instanceof ServiceError)) this.log.error({ err: error, task: task.id }, 'task failed unexpectedly');
      await this.finish(task, 'failed', failure);
    } finally {
      this.placement.release(task.id);
    }
  }

  private recordOutcome(vm: Vm, hostId: string, command: string, outcome: CommandOutcome): void {
    const now = Date.now();
    if (outcome.domain) {
      if (vm.hostId !== hostId || vm.powerState !== outcome.domain.state) this.records.reportVm(vm.id, { hostId, powerState: outcome.domain.state, powerStateAt: now });
    } else if (outcome.ok && command === 'undefine') {
      this.records.reportVm(vm.id, { hostId: null, powerState: null, powerStateAt: now });
    }
  }

  private async finish(task: Task, state: TaskState, error?: ServiceError): Promise<void> {
    task.state = state;
    task.endedAt = Date.now();
    task.errorKind = error?.kind ?? null;
    task.errorReason = error?.reason ?? null;
    task.errorDetail = error?.detail ?? null;
    await updateRow(this.orm, 'tasks', 'id', task.id, {
      state,
      endedAt: task.endedAt,
      errorKind: task.errorKind,
      errorReason: task.errorReason,
      errorDetail: task.errorDetail,
    });
    this.ended.emit(task.id, task);
  }
}
