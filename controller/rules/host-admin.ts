import type { PowerState } from '../../shared/model.js';
import { activePowerStates } from './power-states.js';
import type { HostAdminState, HostStatus, MigrationAffinity } from './states.js';

/** The actions of host tasks, each also `POST /hosts/{id}/<action>`. */
export const hostActions = ['deactivate', 'activate', 'fence'] as const;
export type HostAction = (typeof hostActions)[number];

/** oVirt's fence types; Drover has no power management, so only `manual` (the administrator's word that the host is down) is carried out. */
export const fenceTypes = ['manual', 'restart', 'start', 'stop', 'status'] as const;
export type FenceType = (typeof fenceTypes)[number];

/** A host's status as the API shows it: its connectivity status, or its administrative state. */
export type PresentedHostStatus = HostStatus | Exclude<HostAdminState, 'active'>;

/** The connectivity statuses in which a host shows its administrative state instead; any other says what is wrong with it, so that an administrator can act (fence it, say). */
const showsAdminState: readonly HostStatus[] = ['up', 'connecting'];

/** The status the API shows for a host: its administrative state when that is not `active` and the host is `up` or `connecting`, else its connectivity status. */
export function presentedHostStatus(host: { status: HostStatus; adminState: HostAdminState }): PresentedHostStatus {
  return host.adminState !== 'active' && showsAdminState.includes(host.status) ? host.adminState : host.status;
}

/** The SQL twin of `presentedHostStatus` over a host row's columns. */
export function presentedHostStatusSql(columns: { status: string; adminState: string }): string {
  const shows = showsAdminState.map((status) => `'${status}'`).join(', ');
  return `(case when ${columns.adminState} <> 'active' and ${columns.status} in (${shows}) then ${columns.adminState} else ${columns.status} end)`;
}

/** Whether new VMs may be placed on the host (started, or migrated to it): only while it is `active`. */
export function acceptsNewVms(host: { adminState: HostAdminState }): boolean {
  return host.adminState === 'active';
}

/** What a host's deactivation does with one VM defined on it. */
export type Departure =
  | { kind: 'migrate' }
  | { kind: 'undefine' }
  | { kind: 'stuck'; why: string };

/** What deciding a VM's departure needs to know of it. */
export interface DepartingVm {
  name: string;
  powerState: PowerState | null;
  migrationAffinity: MigrationAffinity;
  /** The host whose local storage holds a disk of the VM, or null when all its disks are on shared storage. */
  localDiskHostId: string | null;
}

/**
 * How a VM leaves a host going into maintenance: an active one (running,
 * paused) is migrated; a shut-off one with every disk on shared storage is
 * undefined there, so that it can start on any host. A VM pinned to the
 * host, suspended with its memory image on the host, with a disk on the
 * host's local storage, or whose state is not known cannot leave: the
 * deactivation fails and names it.
 */
export function departureOf(vm: DepartingVm): Departure {
  const stuck = (why: string): Departure => ({ kind: 'stuck', why: `VM ${vm.name} ${why}` });
  if (vm.migrationAffinity === 'pinned') return stuck('is pinned to the host (placement_policy.affinity pinned)');
  if (vm.localDiskHostId !== null) return stuck("has a disk on the host's local storage");
  if (vm.powerState === null) return stuck('is in a state the host has not reported');
  if (vm.powerState === 'suspended') return stuck('is suspended with its memory image on the host');
  if (activePowerStates.has(vm.powerState)) return { kind: 'migrate' };
  return { kind: 'undefine' };
}
