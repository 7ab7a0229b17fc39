import type { CloudInitSpec } from '../../shared/model.js';
import { invalid } from './errors.js';

/** A VM's cloud-init settings (oVirt's Initialization), as the VM's row keeps them in JSON. */
export type Initialization = CloudInitSpec;

/** Cloud-init settings as a request gives them (a root password only when it names one), or null, which clears them. */
export type InitializationInput = (Omit<Initialization, 'rootPassword'> & { rootPassword?: string }) | null;

/** What a start action asks about cloud-init: whether to attach a seed, and settings that replace the VM's for this start only. */
export interface StartVmParams {
  useCloudInit?: boolean;
  initialization?: Initialization;
}

export function storedInitialization(initialization: Initialization | null): string | null {
  return initialization ? JSON.stringify(initialization) : null;
}

export function initializationOf(stored: string | null): Initialization | null {
  return stored ? (JSON.parse(stored) as Initialization) : null;
}

/**
 * The cloud-init settings a start attaches a seed for: the start's own
 * (a one-time override), else the VM's when the start asks for cloud-init;
 * none otherwise. A start that asks for cloud-init of a VM that has no
 * settings is refused.
 */
export function cloudInitForStart(params: StartVmParams, stored: string | null, vmName: string): Initialization | undefined {
  if (params.initialization) return params.initialization;
  if (!params.useCloudInit) return undefined;
  const initialization = initializationOf(stored);
  if (!initialization) throw invalid(`VM ${vmName} has no initialization; set vm.initialization on the VM or in the start action`);
  return initialization;
}

/** The settings an update stores: the new ones, keeping the current root password when the update gives none (clients never see it to send it back). */
export function updatedInitialization(update: InitializationInput, stored: string | null): Initialization | null {
  if (!update) return null;
  return { ...update, rootPassword: update.rootPassword ?? initializationOf(stored)?.rootPassword ?? '' };
}
