import { powerStates, type PowerState } from '../../shared/model.js';
import type { HostStatus } from './states.js';
import { activePowerStates } from './power-states.js';
import type { VmAction } from './vm-actions.js';

/** A VM's status in oVirt's words. */
export type VmStatus =
  | 'down'
  | 'powering_up'
  | 'up'
  | 'paused'
  | 'suspended'
  | 'powering_down'
  | 'saving_state'
  | 'restoring_state'
  | 'reboot_in_progress'
  | 'migrating'
  | 'image_locked'
  | 'not_responding'
  | 'unknown';

const fromPower: Record<PowerState, VmStatus> = {
  running: 'up',
  paused: 'paused',
  shutoff: 'down',
  suspended: 'suspended',
  shutting_down: 'powering_down',
  crashed: 'down',
  pm_suspended: 'suspended',
};

const whileRunning: Partial<Record<VmAction | 'create_disks' | 'attach_disk' | 'migrate', VmStatus>> = {
  migrate: 'migrating',
  create_disks: 'image_locked',
  start: 'powering_up',
  resume: 'powering_up',
  stop: 'powering_down',
  shutdown: 'powering_down',
  suspend: 'saving_state',
  reboot: 'reboot_in_progress',
  reset: 'reboot_in_progress',
};

/** The host statuses in which a host cannot tell its VMs' states: its agent is silent, or cannot reach the hypervisor. */
const blindHostStatuses: readonly HostStatus[] = ['non_responsive', 'non_operational'];

/**
 * Derives the status shown to API clients from what the host last reported,
 * whether that host still responds, and the task in flight on the VM. A VM
 * on a host that has not reported its domains since its session began (or
 * since the controller started) is `unknown`: what is on record may be
 * stale. A VM on a host that stopped responding, or whose agent cannot reach
 * the hypervisor, is `not_responding` when it was last seen active, and
 * `unknown` otherwise. A VM whose domain is active on a second host besides
 * its own (`duplicateHostId`: a migration in progress, or two copies) is
 * `unknown` too: which copy is the VM is not for Drover to guess. A VM
 * being migrated is `migrating` (its destination's copy is expected) while
 * its host responds.
 */
export function vmStatus(
  powerState: PowerState | null,
  hostId: string | null,
  hostStatus: HostStatus | undefined,
  runningAction: string | undefined,
  duplicateHostId: string | null = null,
): VmStatus {
  if (hostId && hostStatus !== 'up') {
    return hostStatus !== undefined && blindHostStatuses.includes(hostStatus) && powerState !== null && activePowerStates.has(powerState) ? 'not_responding' : 'unknown';
  }
  if (hostId && duplicateHostId && runningAction !== 'migrate') return 'unknown';
  const reported = hostId && powerState ? fromPower[powerState] : 'down';
  const transitional = runningAction && whileRunning[runningAction as keyof typeof whileRunning];
  if (!transitional) return reported;
  if (runningAction === 'start' && powerState === 'suspended') return 'restoring_state';
  if (transitional === 'powering_up' && reported === 'up') return reported;
  if (transitional === 'powering_down' && reported === 'down') return reported;
  return transitional;
}

/** The SQL expressions `vmStatusSql` derives a VM's status from: each the twin of one argument of `vmStatus`. */
export interface VmStatusColumns {
  powerState: string;
  hostId: string;
  /** The status of the VM's host, or null when it has none. */
  hostStatus: string;
  /** The action of the task running on the VM, or null. */
  runningAction: string;
  /** The second host the VM's domain is active on, or null. */
  duplicateHostId: string;
}

const quoted = (value: string) => `'${value}'`;

/**
 * The SQL twin of `vmStatus`, made from the same tables: an expression that
 * gives, for the row the columns belong to, the status `vmStatus` gives for
 * their values. A test holds the two against each other over every
 * combination of their inputs.
 */
export function vmStatusSql(columns: VmStatusColumns): string {
  const { powerState, hostId, hostStatus, runningAction, duplicateHostId } = columns;
  const blind = blindHostStatuses.map(quoted).join(', ');
  const active = [...activePowerStates].map(quoted).join(', ');
  const reportedCases = powerStates.map((state) => `when ${quoted(state)} then ${quoted(fromPower[state])}`).join(' ');
  const reported = `(case when ${hostId} is null then 'down' else case ${powerState} ${reportedCases} else 'down' end end)`;
  const transitions = (Object.entries(whileRunning) as [string, VmStatus][]).map(([action, transitional]) => {
    const branches: string[] = [];
    if (action === 'start') branches.push(`when ${powerState} = 'suspended' then 'restoring_state'`);
    if (transitional === 'powering_up') branches.push(`when ${reported} = 'up' then 'up'`);
    if (transitional === 'powering_down') branches.push(`when ${reported} = 'down' then 'down'`);
    return `when ${quoted(action)} then ${branches.length ? `case ${branches.join(' ')} else ${quoted(transitional)} end` : quoted(transitional)}`;
  });
  return `(case
    when ${hostId} is not null and coalesce(${hostStatus}, '') <> 'up'
      then case when ${hostStatus} in (${blind}) and ${powerState} in (${active}) then 'not_responding' else 'unknown' end
    when ${hostId} is not null and ${duplicateHostId} is not null and coalesce(${runningAction}, '') <> 'migrate' then 'unknown'
    else case ${runningAction} ${transitions.join(' ')} else ${reported} end
  end)`;
}
