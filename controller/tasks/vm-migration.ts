import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Orm } from '../db/orm.js';
import { VmMigration, type Task } from '../db/entities.js';
import { insertRow, reader, updateRow } from '../db/store.js';
import type { CommandOutcome, MigrationCommand, MigrationProgress, MigrationTarget } from '../../shared/model.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { NotYet, ServiceError, conflict, notFound, unavailable } from '../rules/errors.js';
import { outcomeError } from '../rules/outcomes.js';
import { judgeMigration, migrationDeadlineMs, openMigrationStates, type HostWord, type MigrateAnswer, type MigrationSettings, type MigrationState } from '../rules/migration.js';
import type { Records, VmRecord } from '../state/records.js';
import type { VmDevices } from '../state/devices.js';
import type { Placement } from '../state/placement.js';
import { paramsOf, type TaskRunner } from './task-scheduler.js';

/** What a migrate task is asked: the destination host, or none for the scheduler's choice. */
export interface MigrateVmParams {
  hostId?: string;
  /** Moves a VM whose placement policy pins it to its host, as oVirt's `force` does. */
  force?: boolean;
}

/** How long one inspection of a host may take before the host counts as silent for that round. */
const inspectionTimeoutMs = 10_000;
/** How often an attempt that waits asks the hosts again, at most. */
const recheckIntervalMs = 1_000;
/** How often the progress of a migration is written to its row, at most. */
const progressWriteIntervalMs = 2_000;

interface Attempt {
  row: VmMigration;
  /** What the source's MIGRATE answered in this run of the controller. */
  answer: MigrateAnswer;
  failure?: ServiceError;
  progress?: MigrationProgress;
  progressWrittenAt: number;
}

/**
 * Runs the migrations of running VMs, each a durable attempt (table
 * vm_migrations) written before each step's side effect: the destination is
 * prepared (its storage and networks; the VM's memory is reserved there by
 * placement), the source is asked to migrate the domain peer to peer, and
 * the VM is handed over only on the evidence rules/migration.ts names, as
 * both hosts answer an inspection. A controller that restarts during an
 * attempt never asks the source to migrate again: it inspects both hosts and
 * settles the attempt on what they say.
 */
export class VmMigrationRunner implements TaskRunner {
  private readonly planned = new Map<string, string>();
  /** The latest attempt of each VM this controller ran, by VM id. */
  private readonly attempts = new Map<string, Attempt>();
  private inspections = 0;

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly devices: VmDevices,
    private readonly hub: AgentHub,
    private readonly placement: Placement,
    private readonly settings: MigrationSettings,
    private readonly log: Logger,
  ) {}

  async plan(task: Task): Promise<void> {
    const vm = this.vmOf(task);
    const source = this.records.host(vm.hostId);
    const refuse = (why: string) => conflict(`cannot migrate VM ${vm.name}: ${why}`);
    if (source?.status === 'connecting') throw new NotYet(this.records.nextHostChange(), `host ${source.name} of VM ${vm.name} has not reported its domains yet`);
    if (!source || !vm.hostId) throw refuse('it is down');
    if (source.status !== 'up' || !this.records.isConnected(source.id)) throw unavailable(`cannot migrate VM ${vm.name}: its host ${source.name} is ${source.status}`);
    if (vm.duplicateHostId) throw refuse(`it is active on two hosts at once (${vm.hostId} and ${vm.duplicateHostId})`);
    if (vm.powerState !== 'running') throw refuse(`it is ${vm.powerState ?? 'down'}, not up`);
    if (vm.migrationAffinity === 'pinned' && !paramsOf<MigrateVmParams>(task).force) throw refuse('its placement policy pins it to its host (migrate with force to move it anyway)');
    const needs = await this.devices.placementOf(vm.id);
    if (needs.blocker) throw refuse(needs.blocker);
    if (needs.hostId) throw refuse(`a disk of it is on the local storage of host ${this.records.host(needs.hostId)?.name ?? needs.hostId}, which no other host reaches`);
    const destination = this.placement.reserveDestination(task.id, vm, paramsOf<MigrateVmParams>(task).hostId);
    this.planned.set(task.id, destination);
    task.hostId = vm.hostId;
    task.commandKind = 'migrate';
  }

  async run(task: Task): Promise<void> {
    const vm = this.vmOf(task);
    const attempt = await this.attemptOf(task, vm);
    const { row } = attempt;
    if (row.state === 'succeeded') {
      if (vm.hostId !== row.destinationHostId) await this.records.migrationEnded(vm.id, row.destinationHostId);
      return;
    }
    if (row.state === 'failed' || row.state === 'cancelled') throw attempt.failure ?? conflict(row.failure ?? `the migration ${row.state}`);
    this.records.migrationBegan(vm.id, row.destinationHostId);
    try {
      if (row.state === 'preparing') {
        await this.prepare(attempt, vm, task);
        await this.migrate(attempt, vm, task);
      }
      await this.settle(attempt, vm, task);
    } finally {
      if (!openMigrationStates.has(row.state) && this.records.migrationOf(vm.id)) await this.records.migrationEnded(vm.id);
    }
    if ((row.state as MigrationState) !== 'succeeded') throw attempt.failure ?? conflict(row.failure ?? `the migration ${row.state}`);
  }

  release(task: Task): void {
    this.planned.delete(task.id);
    this.placement.release(task.id);
  }

  /** The attempt in progress for the VM, if one is. */
  openAttempt(vmId: string): Readonly<VmMigration> | undefined {
    const attempt = this.attempts.get(vmId);
    return attempt && openMigrationStates.has(attempt.row.state) ? attempt.row : undefined;
  }

  /** The latest progress its source reported of the VM's migration in progress. */
  progressOf(vmId: string): MigrationProgress | undefined {
    return this.openAttempt(vmId) ? this.attempts.get(vmId)?.progress : undefined;
  }

  /** Takes in a MigrationProgress from a host: only for the MIGRATE in progress that was sent to that host. */
  progressReported(hostId: string, commandId: string, vmId: string, progress: MigrationProgress): boolean {
    const attempt = this.attempts.get(vmId);
    if (!attempt || attempt.row.state !== 'migrating' || attempt.row.sourceHostId !== hostId || commandId !== this.command(attempt.row, 'migrate', '').commandId) return false;
    attempt.progress = progress;
    const now = Date.now();
    if (now - attempt.progressWrittenAt >= progressWriteIntervalMs) {
      attempt.progressWrittenAt = now;
      void this.write(attempt, { dataTotalBytes: progress.dataTotalBytes, dataProcessedBytes: progress.dataProcessedBytes, dataRemainingBytes: progress.dataRemainingBytes }).catch((error: unknown) =>
        this.log.warn({ err: error, migration: attempt.row.id }, 'could not write the progress of a migration'),
      );
    }
    return true;
  }

  /**
   * Cancels the VM's migration: before the source began, the attempt ends
   * cancelled and nothing moves; while the source migrates, its migration
   * job is aborted and the VM stays up there. Refused as too late once the
   * source is switching over or the VM was handed over, and when the VM is
   * not being migrated.
   */
  async cancel(vmId: string): Promise<void> {
    const vm = this.records.vm(vmId);
    if (!vm) throw notFound('VM', vmId);
    const attempt = this.attempts.get(vmId);
    if (!attempt || !openMigrationStates.has(attempt.row.state)) {
      if (attempt?.row.state === 'succeeded') throw conflict(`too late to cancel the migration of VM ${vm.name}: it runs on its destination already`);
      throw conflict(`VM ${vm.name} is not being migrated`);
    }
    await this.write(attempt, { cancelRequested: true });
    if (attempt.row.state === 'preparing') return;
    const deadline = Date.now() + 5_000;
    for (let round = 0; ; round++) {
      const outcome = await this.hub.dispatch(attempt.row.sourceHostId, this.command(attempt.row, 'abort_migration', `:abort:${Date.now()}:${round}`));
      if (outcome.ok) return;
      const stillBeginning = attempt.answer === undefined && attempt.row.state === 'migrating' && outcome.error === 'invalid_state' && Date.now() < deadline;
      if (!stillBeginning) {
        throw conflict(`too late to cancel the migration of VM ${vm.name}: ${outcome.message}`);
      }
      await sleep(200);
    }
  }

  private async attemptOf(task: Task, vm: VmRecord): Promise<Attempt> {
    const known = this.attempts.get(vm.id);
    if (known?.row.taskId === task.id) return known;
    const stored = await reader(this.orm).findOne(VmMigration, { id: task.id });
    let row: VmMigration;
    if (stored) {
      row = stored;
    } else {
      const destination = this.planned.get(task.id) ?? (await this.replan(task));
      const now = Date.now();
      row = Object.assign(new VmMigration(), {
        id: task.id,
        vmId: vm.id,
        taskId: task.id,
        sourceHostId: vm.hostId!,
        destinationHostId: destination,
        state: 'preparing' as MigrationState,
        cancelRequested: false,
        dataTotalBytes: 0,
        dataProcessedBytes: 0,
        dataRemainingBytes: 0,
        failure: null,
        createdAt: now,
        updatedAt: now,
        endedAt: null,
      });
      await insertRow(this.orm, 'vm_migrations', row);
    }
    const attempt: Attempt = { row, answer: undefined, progressWrittenAt: 0 };
    this.attempts.set(vm.id, attempt);
    return attempt;
  }

  /** A task recovered after a restart before its attempt was stored: nothing happened yet, so it is planned again. */
  private async replan(task: Task): Promise<string> {
    await this.plan(task);
    return this.planned.get(task.id)!;
  }

  private async prepare(attempt: Attempt, vm: VmRecord, task: Task): Promise<void> {
    if (attempt.row.cancelRequested) return this.end(attempt, 'cancelled', conflict(`the migration of VM ${vm.name} was cancelled before it began`));
    task.description = `preparing host ${this.hostName(attempt.row.destinationHostId)} to receive the VM`;
    const spec = await this.devices.specOf(vm);
    const prepared = await this.dispatch(attempt.row.destinationHostId, { ...this.command(attempt.row, 'prepare_incoming', ':prepare'), spec });
    if (!prepared.ok) {
      const cannotTake = prepared.error !== 'hypervisor_unreachable';
      return this.end(attempt, 'failed', cannotTake ? conflict(`cannot migrate VM ${vm.name}: host ${this.hostName(attempt.row.destinationHostId)} cannot take it (${prepared.message})`) : outcomeError(prepared));
    }
    if (attempt.row.cancelRequested) return this.end(attempt, 'cancelled', conflict(`the migration of VM ${vm.name} was cancelled before it began`));
    await this.write(attempt, { state: 'migrating' });
  }

  private async migrate(attempt: Attempt, vm: VmRecord, task: Task): Promise<void> {
    if (attempt.row.state !== 'migrating') return;
    if (attempt.row.cancelRequested) return this.end(attempt, 'cancelled', conflict(`the migration of VM ${vm.name} was cancelled before it began`));
    const destination = this.records.host(attempt.row.destinationHostId);
    const needs = await this.devices.placementOf(vm.id);
    const target: MigrationTarget = {
      migrationId: attempt.row.id,
      destinationUri: destination?.migrationUri ?? '',
      destinationAddress: destination?.migrationAddress || destination?.address || '',
      stallTimeoutMs: this.settings.stallTimeoutMs,
      deadlineMs: migrationDeadlineMs(vm.memoryBytes, this.settings),
      sharedStorage: needs.hostId === null,
      bandwidthMiBPerSecond: this.settings.bandwidthMiBPerSecond,
    };
    task.description = `migrating to host ${this.hostName(attempt.row.destinationHostId)}`;
    const answer = await this.dispatch(attempt.row.sourceHostId, { ...this.command(attempt.row, 'migrate', ''), migration: target });
    attempt.answer = answer.ok ? 'ok' : answer.error === 'hypervisor_unreachable' ? undefined : 'failed';
    if (!answer.ok && answer.error !== 'hypervisor_unreachable') attempt.failure = outcomeError(answer);
  }

  /** Asks both hosts until the evidence decides the attempt; see judgeMigration. */
  private async settle(attempt: Attempt, vm: VmRecord, task: Task): Promise<void> {
    while (openMigrationStates.has(attempt.row.state)) {
      const [source, destination] = await Promise.all([this.wordOf(attempt.row, attempt.row.sourceHostId), this.wordOf(attempt.row, attempt.row.destinationHostId)]);
      const verdict = judgeMigration(attempt.row.id, source, destination, attempt.answer);
      this.log.info({ migration: attempt.row.id, vmId: vm.id, source, destination, answer: attempt.answer, verdict }, 'migration evidence');
      if (verdict.verdict === 'succeeded') {
        await this.write(attempt, { state: 'succeeded', endedAt: Date.now(), dataRemainingBytes: 0 });
        await this.records.migrationEnded(vm.id, attempt.row.destinationHostId);
        task.description = `migrated from host ${this.hostName(attempt.row.sourceHostId)} to host ${this.hostName(attempt.row.destinationHostId)}: ${verdict.why}`;
        return;
      }
      if (verdict.verdict === 'failed') {
        if (verdict.discard) {
          const discarded = await this.dispatch(attempt.row.destinationHostId, { ...this.command(attempt.row, 'discard_incoming', ':discard'), migration: this.discardTarget(attempt.row) }).catch(() => undefined);
          if (!discarded?.ok) {
            task.description = `the destination keeps a copy of the VM that this migration left; discarding it: ${discarded && !discarded.ok ? discarded.message : 'no answer'}`;
            await sleep(recheckIntervalMs);
            continue;
          }
        }
        const cancelled = attempt.row.cancelRequested;
        const failure = cancelled
          ? conflict(`the migration of VM ${vm.name} was cancelled; it runs on host ${this.hostName(attempt.row.sourceHostId)}`)
          : (attempt.failure ?? new ServiceError('failed', 'Operation Failed', `the migration of VM ${vm.name} failed: ${verdict.why}`));
        await this.end(attempt, cancelled ? 'cancelled' : 'failed', failure);
        return;
      }
      task.description = verdict.why;
      await Promise.race([this.records.nextHostChange(), sleep(recheckIntervalMs)]);
    }
  }

  private async wordOf(row: VmMigration, hostId: string): Promise<HostWord> {
    const host = this.records.host(hostId);
    if (!host) return { kind: 'confirmed_down' };
    if (this.records.isConfirmedDown(hostId)) return { kind: 'confirmed_down' };
    if (host.status !== 'up' || !this.records.isConnected(hostId)) return { kind: 'silent', why: `host ${host.name} is ${host.status}` };
    const inspection = this.hub.dispatch(hostId, this.command(row, 'inspect_domain', `:inspect:${hostId}:${++this.inspections}`));
    const outcome = await Promise.race([inspection, sleep(inspectionTimeoutMs).then(() => undefined)]).catch(() => undefined);
    if (!outcome) return { kind: 'silent', why: `host ${host.name} did not answer an inspection` };
    if (!outcome.ok) return { kind: 'silent', why: `host ${host.name} could not inspect the domain: ${outcome.message}` };
    if (!outcome.domain) this.records.domainGone(hostId, row.vmId);
    return { kind: 'reported', domain: outcome.domain ? { state: outcome.domain.state, migrationId: outcome.migrationId, jobActive: outcome.migrationJobActive ?? false } : undefined };
  }

  private discardTarget(row: VmMigration): MigrationTarget {
    return { migrationId: row.id, destinationUri: '', destinationAddress: '', stallTimeoutMs: 1, deadlineMs: 1, sharedStorage: true, bandwidthMiBPerSecond: 0 };
  }

  private command(row: VmMigration, kind: MigrationCommand['kind'], suffix: string): MigrationCommand {
    return { commandId: `${row.id}${suffix}`, taskId: row.taskId, kind, vmId: row.vmId };
  }

  private dispatch(hostId: string, command: MigrationCommand): Promise<CommandOutcome> {
    return this.hub.dispatch(hostId, command).catch((error: unknown) => {
      if (error instanceof ServiceError) return { ok: false as const, error: 'hypervisor_unreachable' as const, message: error.detail };
      throw error;
    });
  }

  private async end(attempt: Attempt, state: MigrationState, failure: ServiceError): Promise<void> {
    attempt.failure = failure;
    await this.write(attempt, { state, failure: failure.detail, endedAt: Date.now() });
  }

  private async write(attempt: Attempt, patch: Partial<VmMigration>): Promise<void> {
    const updatedAt = Date.now();
    await updateRow(this.orm, 'vm_migrations', 'id', attempt.row.id, { ...patch, updatedAt });
    Object.assign(attempt.row, patch, { updatedAt });
  }

  private hostName(hostId: string): string {
    return this.records.host(hostId)?.name ?? hostId;
  }

  private vmOf(task: Task): VmRecord {
    const vm = this.records.vm(task.objectId);
    if (!vm) throw notFound('VM', task.objectId);
    return vm;
  }
}
