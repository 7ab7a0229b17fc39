import { initializationOf } from '../../rules/initialization.js';
import type { GuestHardware } from '../../rules/guest-hardware.js';
import type { Rep } from './representation.js';

/**
 * The machine and firmware elements of a VM or template (`cpu.mode` is shown in its `cpu`); absent where the host
 * decides, except the firmware, which is then `cluster_default` as in oVirt (its boot menu is always off).
 */
export function guestHardware(settings: GuestHardware): Rep {
  return {
    bios: { boot_menu: { enabled: false }, type: settings.biosType ?? 'cluster_default' },
    custom_cpu_model: settings.customCpuModel ?? undefined,
    custom_emulated_machine: settings.customEmulatedMachine ?? undefined,
  };
}

/** A VM's cloud-init settings in oVirt's Initialization shape, without the root password, which oVirt never returns either. */
export function initializationRep(stored: string | null): Rep | undefined {
  const initialization = initializationOf(stored);
  if (!initialization) return undefined;
  const text = (value: string) => (value ? value : undefined);
  const list = (values: string[], separator: string) => (values.length > 0 ? values.join(separator) : undefined);
  return {
    host_name: text(initialization.hostName),
    user_name: text(initialization.userName),
    authorized_ssh_keys: list(initialization.authorizedSshKeys, '\n'),
    regenerate_ssh_keys: initialization.regenerateSshKeys,
    timezone: text(initialization.timezone),
    dns_servers: list(initialization.dnsServers, ' '),
    dns_search: list(initialization.dnsSearch, ' '),
    custom_script: text(initialization.customScript),
  };
}
