import type { Orm } from '../db/orm.js';
import type { StorageDomain } from '../db/entities.js';
import { runStatement, selectRows } from '../db/store.js';
import type { DiskBus, DiskDevice, IsoFileRef, NicDevice, NicModel, VmSpec } from '../../shared/model.js';
import { conflict } from '../rules/errors.js';
import { placementNeeds, storageSpecOf, volumeRefOf, type DiskFacts, type PlacementNeeds } from '../rules/devices.js';
import { bootDevicesOf } from '../rules/cdrom.js';
import type { VmRecord } from './records.js';

interface DiskRow {
  disk_id: string;
  disk_name: string;
  format: 'cow' | 'raw';
  disk_status: string;
  disk_interface: DiskBus;
  bootable: boolean | number;
  read_only: boolean | number;
  sd_id: string;
  sd_name: string;
  storage_type: StorageDomain['storageType'];
  address: string;
  path: string;
  sd_host_id: string | null;
  sd_status: string;
}

interface NicRow {
  id: string;
  name: string;
  mac: string;
  nic_interface: NicModel;
  linked: boolean | number;
  network_id: string | null;
  network_name: string | null;
  vlan_id: number | null;
  mtu: number | null;
}

interface CdromRow {
  file_name: string;
  sd_id: string;
  sd_name: string;
  sd_status: string;
  sd_host_id: string | null;
  storage_type: StorageDomain['storageType'];
  address: string;
  path: string;
}

interface Devices {
  disks: DiskDevice[];
  nics: NicDevice[];
  cdrom?: IsoFileRef;
  /** Placement facts of each disk as read, with the storage domain's id. */
  diskFacts: Array<DiskFacts & { id: string; storageDomainId: string }>;
}

/**
 * The devices of each VM as hosts need them (disks with their volumes, NICs
 * with their networks) and where they let the VM run.
 *
 * Devices are read once per VM and remembered. Whoever writes rows that
 * change a VM's devices (attachments, NICs, networks, storage domains) calls
 * `changed`/`changedAll` after the write; a read that began before such a
 * call is not remembered, so a change is never hidden by a read that raced
 * it.
 *
 * Disk locks and closing storage domains are held here, in memory, and take
 * effect at once: a disk is locked (say for a template copy or its removal)
 * before its row says so and unlocked only after its row says so, and a
 * storage domain is closing from the moment its deactivation begins; a VM
 * with such a disk cannot start meanwhile.
 */
export class VmDevices {
  private readonly known = new Map<string, Devices>();
  private generation = 0;
  private readonly lockedDisks = new Map<string, string>();
  private readonly closingDomains = new Set<string>();

  constructor(private readonly orm: Orm) {}

  /** Forgets what is known about one VM's devices; call after writing rows that change them. */
  changed(vmId: string): void {
    this.generation++;
    this.known.delete(vmId);
  }

  /** Forgets every VM's devices; call after writing rows that may change many VMs' devices. */
  changedAll(): void {
    this.generation++;
    this.known.clear();
  }

  /** Records that a new VM has no devices. */
  noDevices(vmId: string): void {
    this.known.set(vmId, { disks: [], nics: [], diskFacts: [] });
  }

  async specOf(vm: VmRecord): Promise<VmSpec> {
    const { disks, nics, cdrom } = await this.devicesOf(vm.id);
    return {
      id: vm.id,
      name: vm.name,
      description: vm.description,
      memoryBytes: vm.memoryBytes,
      cpu: { sockets: vm.cpuSockets, cores: vm.cpuCores, threads: vm.cpuThreads },
      osType: vm.osType,
      displayType: vm.displayType,
      clusterId: vm.clusterId,
      disks,
      nics,
      cdrom,
      bootDevices: bootDevicesOf(vm.bootDevices),
      cpuMode: vm.cpuMode ?? undefined,
      customCpuModel: vm.customCpuModel ?? undefined,
      machine: vm.customEmulatedMachine ?? undefined,
      biosType: vm.biosType ?? undefined,
    };
  }

  async placementOf(vmId: string): Promise<PlacementNeeds> {
    const { diskFacts } = await this.devicesOf(vmId);
    return placementNeeds(
      diskFacts.map((disk) => ({
        ...disk,
        status: this.lockedDisks.has(disk.id) ? 'locked' : disk.status,
        storageDomainStatus: this.closingDomains.has(disk.storageDomainId) ? 'closing' : disk.storageDomainStatus,
      })),
    );
  }

  /**
   * Locks disks for `holder` (a task, say): at once in memory, then in their
   * rows. Refuses a disk that is locked already.
   */
  async lockDisks(diskIds: readonly string[], holder: string): Promise<void> {
    const taken = diskIds.find((id) => this.lockedDisks.has(id));
    if (taken) throw conflict(`disk ${taken} is locked by ${this.lockedDisks.get(taken)}`);
    for (const id of diskIds) this.lockedDisks.set(id, holder);
    try {
      await this.writeDiskStatus(diskIds, 'locked');
    } catch (error) {
      for (const id of diskIds) this.lockedDisks.delete(id);
      throw error;
    }
  }

  /** Unlocks disks, leaving them `status` (`ok`, or `illegal` when what held them failed them): first in their rows, then in memory. */
  async unlockDisks(diskIds: readonly string[], status: 'ok' | 'illegal'): Promise<void> {
    await this.writeDiskStatus(diskIds, status);
    for (const id of diskIds) this.lockedDisks.delete(id);
    this.changedAll();
  }

  /** Forgets locks of disks whose rows were deleted. */
  disksRemoved(diskIds: readonly string[]): void {
    for (const id of diskIds) this.lockedDisks.delete(id);
    this.changedAll();
  }

  /** Marks a storage domain as leaving service: VMs with disks on it cannot start from now on. */
  closeDomain(storageDomainId: string): void {
    this.closingDomains.add(storageDomainId);
  }

  /** Ends what `closeDomain` began, after the domain's row got its new status (or kept its old one). */
  domainSettled(storageDomainId: string): void {
    this.closingDomains.delete(storageDomainId);
    this.changedAll();
  }

  private async writeDiskStatus(diskIds: readonly string[], status: string): Promise<void> {
    if (diskIds.length === 0) return;
    await runStatement(this.orm, `update disks set status = ?, updated_at = ? where id in (${diskIds.map(() => '?').join(', ')})`, [status, Date.now(), ...diskIds]);
  }

  private async devicesOf(vmId: string): Promise<Devices> {
    const cached = this.known.get(vmId);
    if (cached) return cached;
    const began = this.generation;
    const [diskRows, nicRows, cdromRows] = await Promise.all([
      selectRows<DiskRow>(
        this.orm,
        `select d.id as disk_id, d.name as disk_name, d.format, d.status as disk_status, a.disk_interface, a.bootable, a.read_only,
                s.id as sd_id, s.name as sd_name, s.storage_type, s.address, s.path, s.host_id as sd_host_id, s.status as sd_status
           from disk_attachments a join disks d on d.id = a.disk_id join storage_domains s on s.id = d.storage_domain_id
          where a.vm_id = ? and a.active = ? order by a.bootable desc, a.created_at, a.id`,
        [vmId, true],
      ),
      selectRows<NicRow>(
        this.orm,
        `select n.id, n.name, n.mac, n.nic_interface, n.linked, w.id as network_id, w.name as network_name, w.vlan_id, w.mtu
           from nics n left join vnic_profiles p on p.id = n.vnic_profile_id left join networks w on w.id = p.network_id
          where n.vm_id = ? and n.plugged = ? order by n.name, n.id`,
        [vmId, true],
      ),
      selectRows<CdromRow>(
        this.orm,
        `select c.file_name, s.id as sd_id, s.name as sd_name, s.status as sd_status, s.host_id as sd_host_id, s.storage_type, s.address, s.path
           from vm_cdroms c join storage_domains s on s.id = c.storage_domain_id where c.vm_id = ?`,
        [vmId],
      ),
    ]);
    const cdromRow = cdromRows[0];
    const devices: Devices = {
      disks: diskRows.map((row) => ({
        diskId: row.disk_id,
        volume: volumeRefOf({ id: row.disk_id, format: row.format }, { id: row.sd_id, storageType: row.storage_type, address: row.address, path: row.path }),
        bus: row.disk_interface,
        bootable: Boolean(row.bootable),
        readOnly: Boolean(row.read_only),
      })),
      nics: nicRows.map((row) => ({
        nicId: row.id,
        name: row.name,
        mac: row.mac,
        model: row.nic_interface,
        network: row.network_id ? { id: row.network_id, name: row.network_name!, vlanId: row.vlan_id, mtu: Number(row.mtu ?? 0) } : null,
        linked: Boolean(row.linked),
      })),
      cdrom: cdromRow
        ? { storage: storageSpecOf({ id: cdromRow.sd_id, storageType: cdromRow.storage_type, address: cdromRow.address, path: cdromRow.path }), name: cdromRow.file_name }
        : undefined,
      diskFacts: diskRows.map((row) => ({
        id: row.disk_id,
        name: row.disk_name,
        status: row.disk_status,
        storageDomainId: row.sd_id,
        storageDomainName: row.sd_name,
        storageDomainStatus: row.sd_status,
        storageType: row.storage_type,
        localHostId: row.sd_host_id,
      })),
    };
    if (cdromRow) {
      devices.diskFacts.push({
        id: `cdrom:${cdromRow.file_name}`,
        name: `${cdromRow.file_name} (the ISO file in its CD-ROM drive)`,
        status: 'ok',
        storageDomainId: cdromRow.sd_id,
        storageDomainName: cdromRow.sd_name,
        storageDomainStatus: cdromRow.sd_status,
        storageType: cdromRow.storage_type,
        localHostId: cdromRow.sd_host_id,
      });
    }
    if (this.generation === began) this.known.set(vmId, devices);
    return devices;
  }
}
