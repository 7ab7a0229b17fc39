import type { PowerState } from '../../shared/model.js';

/** The power states in which a domain is active: its guest runs or holds memory, and it cannot be undefined. */
export const activePowerStates: ReadonlySet<PowerState> = new Set<PowerState>(['running', 'paused', 'shutting_down', 'pm_suspended']);

/** Whether a VM's domain is active on its host, by what the host last reported. */
export function isRunning(vm: { hostId: string | null; powerState: PowerState | null }): boolean {
  return vm.hostId !== null && vm.powerState !== null && activePowerStates.has(vm.powerState);
}
