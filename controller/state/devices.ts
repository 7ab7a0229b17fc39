import type { Orm } from '../db/orm.js';
import type { Disk, StorageDomain, Vm } from '../db/entities.js';
import type { DiskBus, DiskDevice, NicDevice, NicModel, StorageSpec, VmSpec, VolumeRef } from '../../shared/model.js';
import { conflict } from '../rules/errors.js';
import { selectRows } from '../db/store.js';

/** Where a VM's devices let it run. */
export interface PlacementNeeds {
  /** The host a VM must run on because a disk lives on that host's local storage, or null. */
  hostId: string | null;
  /** Why the VM cannot start at all (a locked disk, an inactive storage domain), or null. */
  blocker: string | null;
}

interface Devices {
  disks: DiskDevice[];
  nics: NicDevice[];
  needs: PlacementNeeds;
}

export function storageSpecOf(domain: Pick<StorageDomain, 'id' | 'storageType' | 'address' | 'path'>): StorageSpec {
  return { id: domain.id, kind: domain.storageType, address: domain.address, path: domain.path };
}

export function volumeRefOf(disk: Pick<Disk, 'id' | 'format'>, domain: Pick<StorageDomain, 'id' | 'storageType' | 'address' | 'path'>): VolumeRef {
  return { storage: storageSpecOf(domain), volumeId: disk.id, format: disk.format === 'cow' ? 'qcow2' : 'raw' };
}

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

/**
 * The devices of each VM as hosts need them (disks with their volumes, NICs
 * with their networks) and where they let the VM run. They are read once per
 * VM and remembered; every service that changes disks, attachments, NICs,
 * networks or storage domains reports it here, so a start costs no query
 * while nothing changed.
 */
export class VmDevices {
  private readonly known = new Map<string, Devices>();

  constructor(private readonly orm: Orm) {}

  /** Forgets what is known about one VM's devices. */
  changedVm(vmId: string): void {
    this.known.delete(vmId);
  }

  /** Forgets every VM's devices, after a change that may concern many VMs. */
  changedAll(): void {
    this.known.clear();
  }

  /** Records that a VM has no devices, as a new VM without a template's devices has. */
  noDevices(vmId: string): void {
    this.known.set(vmId, { disks: [], nics: [], needs: { hostId: null, blocker: null } });
  }

  async specOf(vm: Vm): Promise<VmSpec> {
    const { disks, nics } = await this.devicesOf(vm.id);
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
    };
  }

  async placementOf(vmId: string): Promise<PlacementNeeds> {
    return (await this.devicesOf(vmId)).needs;
  }

  private async devicesOf(vmId: string): Promise<Devices> {
    const cached = this.known.get(vmId);
    if (cached) return cached;
    const [diskRows, nicRows] = await Promise.all([
      selectRows<DiskRow>(this.orm, 
        `select d.id as disk_id, d.name as disk_name, d.format, d.status as disk_status, a.disk_interface, a.bootable, a.read_only,
                s.id as sd_id, s.name as sd_name, s.storage_type, s.address, s.path, s.host_id as sd_host_id, s.status as sd_status
           from disk_attachments a join disks d on d.id = a.disk_id join storage_domains s on s.id = d.storage_domain_id
          where a.vm_id = ? and a.active = ? order by a.bootable desc, a.created_at, a.id`,
        [vmId, true],
      ),
      selectRows<NicRow>(this.orm, 
        `select n.id, n.name, n.mac, n.nic_interface, n.linked, w.id as network_id, w.name as network_name, w.vlan_id, w.mtu
           from nics n left join vnic_profiles p on p.id = n.vnic_profile_id left join networks w on w.id = p.network_id
          where n.vm_id = ? and n.plugged = ? order by n.name, n.id`,
        [vmId, true],
      ),
    ]);
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
      needs: needsOf(diskRows),
    };
    this.known.set(vmId, devices);
    return devices;
  }
}

function needsOf(rows: DiskRow[]): PlacementNeeds {
  let hostId: string | null = null;
  for (const row of rows) {
    if (row.disk_status !== 'ok') return { hostId: null, blocker: `disk ${row.disk_name} is ${row.disk_status}` };
    if (row.sd_status !== 'active') return { hostId: null, blocker: `storage domain ${row.sd_name} of disk ${row.disk_name} is ${row.sd_status}, not active` };
    if (row.storage_type !== 'localfs') continue;
    if (hostId && row.sd_host_id !== hostId) return { hostId: null, blocker: 'its disks are on the local storage of different hosts' };
    hostId = row.sd_host_id;
  }
  return { hostId, blocker: null };
}

export function placementConflict(vm: Pick<Vm, 'name'>, needs: PlacementNeeds) {
  return needs.blocker ? conflict(`VM ${vm.name} cannot start: ${needs.blocker}`) : undefined;
}
