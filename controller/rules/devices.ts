import type { StorageSpec, VolumeRef } from '../../shared/model.js';
import { conflict } from './errors.js';

/** Where a VM's devices let it run. */
export interface PlacementNeeds {
  /** The host a VM must run on because a disk lives on that host's local storage, or null. */
  hostId: string | null;
  /** Why the VM cannot start at all (a locked disk, an inactive storage domain), or null. */
  blocker: string | null;
}

/** What placement needs to know of one disk of a VM. */
export interface DiskFacts {
  name: string;
  status: string;
  storageDomainName: string;
  storageDomainStatus: string;
  storageType: string;
  /** The host of a localfs storage domain. */
  localHostId: string | null;
}

/** Where disks let their VM run: nowhere while one is not ok or its storage domain is not active, on one host when some are on its local storage. */
export function placementNeeds(disks: readonly DiskFacts[]): PlacementNeeds {
  let hostId: string | null = null;
  for (const disk of disks) {
    if (disk.status !== 'ok') return { hostId: null, blocker: `disk ${disk.name} is ${disk.status}` };
    if (disk.storageDomainStatus !== 'active') return { hostId: null, blocker: `storage domain ${disk.storageDomainName} of disk ${disk.name} is ${disk.storageDomainStatus}, not active` };
    if (disk.storageType !== 'localfs') continue;
    if (hostId && disk.localHostId !== hostId) return { hostId: null, blocker: 'its disks are on the local storage of different hosts' };
    hostId = disk.localHostId;
  }
  return { hostId, blocker: null };
}

export function placementConflict(vm: { name: string }, needs: PlacementNeeds) {
  return needs.blocker ? conflict(`VM ${vm.name} cannot start: ${needs.blocker}`) : undefined;
}

/** A storage domain as hosts know it. */
export function storageSpecOf(domain: { id: string; storageType: StorageSpec['kind']; address: string; path: string }): StorageSpec {
  return { id: domain.id, kind: domain.storageType, address: domain.address, path: domain.path };
}

/** A disk's volume as hosts know it: the volume is named after the disk. */
export function volumeRefOf(disk: { id: string; format: 'cow' | 'raw' }, domain: Parameters<typeof storageSpecOf>[0]): VolumeRef {
  return { storage: storageSpecOf(domain), volumeId: disk.id, format: disk.format === 'cow' ? 'qcow2' : 'raw' };
}
