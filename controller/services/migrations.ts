import type { Task } from '../db/entities.js';
import type { MigrationProgress } from '../../shared/model.js';
import { notFound } from '../rules/errors.js';
import type { Records } from '../state/records.js';
import type { TaskQueue } from '../tasks/task-scheduler.js';
import type { MigrateVmParams, VmMigrationRunner } from '../tasks/vm-migration.js';

/** The destination a migrate request names: by id, by name, or none for the scheduler's choice. */
export interface MigrationRequest {
  hostId?: string;
  hostName?: string;
  force?: boolean;
}

/** Live migration of running VMs: requests, cancellations and progress (see tasks/vm-migration.ts). */
export class MigrationService {
  constructor(
    private readonly records: Records,
    private readonly tasks: TaskQueue,
    private readonly runner: VmMigrationRunner,
  ) {}

  /** Submits a migration of the VM; refusals (the VM is not up, the destination cannot take it) come at once. */
  async migrate(vmId: string, request: MigrationRequest, correlationId: string | null): Promise<Task> {
    if (!this.records.vm(vmId)) throw notFound('VM', vmId);
    const params: MigrateVmParams = { hostId: this.destinationOf(request), force: request.force || undefined };
    return this.tasks.submit({ objectType: 'vm', objectId: vmId, action: 'migrate', params, correlationId });
  }

  cancel(vmId: string): Promise<void> {
    return this.runner.cancel(vmId);
  }

  progressOf(vmId: string): MigrationProgress | undefined {
    return this.runner.progressOf(vmId);
  }

  progressReported(hostId: string, commandId: string, vmId: string, progress: MigrationProgress): boolean {
    return this.runner.progressReported(hostId, commandId, vmId, progress);
  }

  private destinationOf(request: MigrationRequest): string | undefined {
    if (request.hostId !== undefined) {
      if (!this.records.host(request.hostId)) throw notFound('host', request.hostId);
      return request.hostId;
    }
    if (request.hostName === undefined) return undefined;
    const named = [...this.records.hosts.values()].find((host) => host.name === request.hostName);
    if (!named) throw notFound('host', request.hostName);
    return named.id;
  }
}
