import type { BiosType, CpuMode } from '../../shared/model.js';
import { invalid } from './errors.js';

/** The CPU, machine and firmware settings of a VM or template; null leaves a setting to the host. */
export interface GuestHardware {
  cpuMode: CpuMode | null;
  customCpuModel: string | null;
  customEmulatedMachine: string | null;
  biosType: BiosType | null;
}

/** The chipsets of QEMU's x86 machine types. */
type Chipset = 'q35' | 'i440fx';

/** A machine type as oVirt's clients name it: the chipset's alias or one of QEMU's versioned names (pc-q35-7.2, pc-i440fx-rhel7.6.0). */
export const machinePattern = /^(q35|pc|i440fx|pc-(q35|i440fx)-[A-Za-z0-9.]{1,40})$/;

/** A QEMU CPU model name, such as Nehalem, Skylake-Client-IBRS or qemu64. */
export const cpuModelPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function chipsetOfMachine(machine: string): Chipset {
  return machine.includes('q35') ? 'q35' : 'i440fx';
}

const chipsetOfBios: Record<BiosType, Chipset> = {
  i440fx_sea_bios: 'i440fx',
  q35_sea_bios: 'q35',
  q35_ovmf: 'q35',
  q35_secure_boot: 'q35',
};

/** Refuses settings that contradict each other: a firmware of one chipset on a machine of the other. */
export function checkGuestHardware(hardware: GuestHardware, what: string): void {
  const { customEmulatedMachine: machine, biosType } = hardware;
  if (machine && biosType && chipsetOfMachine(machine) !== chipsetOfBios[biosType]) {
    throw invalid(`${what}: bios.type ${biosType} needs a ${chipsetOfBios[biosType]} machine, and custom_emulated_machine ${machine} is ${chipsetOfMachine(machine)}`);
  }
}
