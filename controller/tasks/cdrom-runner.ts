import type { Orm } from '../db/orm.js';
import { StorageDomain, type Task } from '../db/entities.js';
import type { AgentHub } from '../agents/agent-hub.js';
import { reader, runStatement, selectRows } from '../db/store.js';
import { NotYet, conflict, notFound, unavailable } from '../rules/errors.js';
import { cdromId } from '../rules/cdrom.js';
import { storageSpecOf } from '../rules/devices.js';
import { outcomeError } from '../rules/outcomes.js';
import { isRunning } from '../rules/power-states.js';
import type { Records, VmRecord } from '../state/records.js';
import type { DeviceSync } from './device-sync.js';
import { paramsOf, type TaskRunner } from './task-scheduler.js';

export const cdromActions = ['change_cdrom'] as const;

/** A file of a storage domain's ISO directory, as a VM's CD-ROM drive holds it. */
export interface CdromMedium {
  storageDomainId: string;
  fileName: string;
}

export interface ChangeCdromParams {
  /** The medium to insert, or null to eject. */
  medium: CdromMedium | null;
  /** Change the running guest's drive only (oVirt's `current=true`), not what the VM starts with. */
  current: boolean;
}

/**
 * Changes the medium of a VM's CD-ROM drive. What the VM starts with is a row
 * of vm_cdroms, changed together with the domain's persistent definition on
 * the host it is defined on (see DeviceSync). A change of the running guest's
 * drive alone goes to its host and leaves the row as it is.
 */
export class CdromRunner implements TaskRunner {
  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly sync: DeviceSync,
    private readonly hub: AgentHub,
  ) {}

  async run(task: Task): Promise<void> {
    const vm = this.records.vm(task.objectId);
    if (!vm) throw notFound('VM', task.objectId);
    const { medium, current } = paramsOf<ChangeCdromParams>(task);
    if (current) return this.changeLive(task, vm, medium);
    const before = await selectRows<{ storage_domain_id: string; file_name: string }>(this.orm, 'select storage_domain_id, file_name from vm_cdroms where vm_id = ?', [vm.id]);
    const write = (to: CdromMedium | null) => async () => {
      await runStatement(this.orm, 'delete from vm_cdroms where vm_id = ?', [vm.id]);
      if (to) await runStatement(this.orm, 'insert into vm_cdroms (vm_id, storage_domain_id, file_name) values (?, ?, ?)', [vm.id, to.storageDomainId, to.fileName]);
    };
    const previous = before[0] ? { storageDomainId: before[0].storage_domain_id, fileName: before[0].file_name } : null;
    await this.sync.change({ commandId: task.id, taskId: task.id }, vm.id, { id: cdromId, plugging: 'none' }, write(medium), write(previous));
  }

  private async changeLive(task: Task, vm: VmRecord, medium: CdromMedium | null): Promise<void> {
    const hostId = vm.hostId;
    if (!hostId || !isRunning(vm)) throw conflict(`VM ${vm.name} is not running; change its CD-ROM without current=true to change what it starts with`);
    const host = this.records.host(hostId);
    if (host?.status === 'connecting') throw new NotYet(this.records.nextHostChange(), `host ${host.name} of VM ${vm.name} has not reported its domains yet`);
    if (!this.hub.isConnected(hostId)) throw unavailable(`host ${hostId} of VM ${vm.name} is not connected`);
    const domain = medium ? await reader(this.orm).findOne(StorageDomain, { id: medium.storageDomainId }) : null;
    if (medium && !domain) throw notFound('storage domain', medium.storageDomainId);
    const outcome = await this.hub.dispatch(hostId, {
      commandId: task.id,
      taskId: task.id,
      kind: 'change_medium',
      vmId: vm.id,
      medium: medium && domain ? { storage: storageSpecOf(domain), name: medium.fileName } : undefined,
    });
    if (!outcome.ok) throw outcomeError(outcome);
  }
}
