import type { CommandKind, PowerState } from '../../shared/model.js';
import type { DesiredState, HostStatus } from './states.js';
import { activePowerStates } from './power-states.js';
import { conflict, unavailable } from './errors.js';

/** The lifecycle operations a task can perform on a VM. */
export const vmActions = ['start', 'stop', 'shutdown', 'suspend', 'resume', 'reboot', 'reset', 'remove'] as const;
export type VmAction = (typeof vmActions)[number];

/** The actions the API offers as `POST /vms/{id}/<action>`. */
export const apiVmActions: readonly VmAction[] = ['start', 'stop', 'shutdown', 'suspend', 'resume', 'reboot', 'reset'];

export const desiredStateAfter: Record<VmAction, DesiredState | undefined> = {
  start: 'up',
  resume: 'up',
  reboot: 'up',
  reset: 'up',
  stop: 'down',
  shutdown: 'down',
  suspend: 'suspended',
  remove: undefined,
};

export interface ActionPlan {
  /** The command to send, or null when the action needs no host. */
  command: CommandKind | null;
}

interface VmFacts {
  name: string;
  hostId: string | null;
  powerState: PowerState | null;
  /** A second host the VM's domain is active on besides hostId, if any. */
  duplicateHostId?: string | null;
}

/** The actions allowed on a VM active on two hosts at once: those that stop the copy on its host, never one that could start or keep a second copy. */
const actionsOnDuplicates: ReadonlySet<VmAction> = new Set<VmAction>(['stop', 'shutdown']);


/**
 * Decides how an action is carried out from the VM's reported state, or
 * refuses it. A VM active on two hosts at once can only be stopped (on its
 * own host; the other copy then becomes the VM).
 */
export function planAction(action: VmAction, vm: VmFacts, hostStatus: HostStatus | undefined): ActionPlan {
  if (vm.hostId && hostStatus !== 'up') throw unavailable(`VM ${vm.name} is on host ${vm.hostId}, which is not responding`);
  const state = vm.hostId ? vm.powerState : null;
  const refuse = (why: string) => conflict(`cannot ${action} VM ${vm.name}: ${why}`);
  if (vm.hostId && vm.duplicateHostId && !actionsOnDuplicates.has(action)) {
    throw refuse(`it is active on two hosts at once (${vm.hostId} and ${vm.duplicateHostId}); stop it until one copy is left`);
  }
  const describe = state ?? 'down';
  switch (action) {
    case 'start':
      if (state === 'paused' || state === 'pm_suspended') return { command: 'resume' };
      if (state === 'running' || state === 'shutting_down') throw refuse('it is already running');
      return { command: 'start' };
    case 'resume':
      if (state === 'paused' || state === 'pm_suspended' || state === 'suspended') return { command: 'resume' };
      throw refuse(`it is ${describe}, not paused or suspended`);
    case 'stop':
      if (state === 'suspended' || (state !== null && activePowerStates.has(state))) return { command: 'destroy' };
      throw refuse(`it is ${describe}`);
    case 'shutdown':
      if (state === 'running') return { command: 'shutdown' };
      throw refuse(`it is ${describe}, not running`);
    case 'suspend':
      if (state === 'running' || state === 'paused') return { command: 'suspend' };
      throw refuse(`it is ${describe}, not running`);
    case 'reboot':
      if (state === 'running') return { command: 'reboot' };
      throw refuse(`it is ${describe}, not running`);
    case 'reset':
      if (state === 'running') return { command: 'reset' };
      throw refuse(`it is ${describe}, not running`);
    case 'remove':
      if (state !== null && activePowerStates.has(state)) throw refuse('it is running; stop it first');
      return { command: vm.hostId ? 'undefine' : null };
  }
}
