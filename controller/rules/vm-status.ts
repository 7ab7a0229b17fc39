import type { PowerState } from '../../shared/model.js';
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

const whileRunning: Partial<Record<VmAction | 'create_disks' | 'attach_disk', VmStatus>> = {
  create_disks: 'image_locked',
  start: 'powering_up',
  resume: 'powering_up',
  stop: 'powering_down',
  shutdown: 'powering_down',
  suspend: 'saving_state',
  reboot: 'reboot_in_progress',
};

/**
 * Derives the status shown to API clients from what the host last reported,
 * whether that host still responds, and the task in flight on the VM. A VM
 * on a host that has not reported its domains since its session began (or
 * since the controller started) is `unknown`: what is on record may be
 * stale. A VM on a host that stopped responding is `not_responding` when it
 * was last seen active, and `unknown` otherwise.
 */
export function vmStatus(powerState: PowerState | null, hostId: string | null, hostStatus: HostStatus | undefined, runningAction: string | undefined): VmStatus {
  if (hostId && hostStatus !== 'up') {
    return hostStatus === 'non_responsive' && powerState !== null && activePowerStates.has(powerState) ? 'not_responding' : 'unknown';
  }
  const reported = hostId && powerState ? fromPower[powerState] : 'down';
  const transitional = runningAction && whileRunning[runningAction as keyof typeof whileRunning];
  if (!transitional) return reported;
  if (runningAction === 'start' && powerState === 'suspended') return 'restoring_state';
  if (transitional === 'powering_up' && reported === 'up') return reported;
  if (transitional === 'powering_down' && reported === 'down') return reported;
  return transitional;
}
