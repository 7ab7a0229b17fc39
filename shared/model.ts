/**
 * Types both the controller and the agents use to talk about hosts, domains
 * and commands, independent of the wire (the gRPC adapters translate them to
 * and from proto messages) and of the REST representation.
 */

/**
 * The power state of a domain as the hypervisor reports it. The hypervisor is
 * the authority: Drover records these, it never infers them.
 *
 * - `running`: the guest's CPUs run.
 * - `paused`: the guest's CPUs are stopped; its memory is held by the hypervisor.
 * - `shutoff`: defined but not running.
 * - `suspended`: not running, with its memory saved to disk by a suspend
 *   command; the next start restores it.
 * - `shutting_down`: the guest is powering itself off.
 * - `crashed`: the guest crashed.
 * - `pm_suspended`: the guest put itself to sleep through power management.
 */
export type PowerState = 'running' | 'paused' | 'shutoff' | 'suspended' | 'shutting_down' | 'crashed' | 'pm_suspended';

/** The display protocol a VM's console uses. */
export type DisplayType = 'vnc' | 'spice';

/**
 * What a host needs to know to define a VM's domain. Device policy (buses,
 * models) is the agent's business, not part of the spec.
 */
export interface VmSpec {
  /** The Drover VM id, a UUID; it is also the libvirt domain UUID. */
  id: string;
  /** The Drover VM name, kept in the domain metadata. */
  name: string;
  description: string;
  memoryBytes: number;
  cpu: { sockets: number; cores: number; threads: number };
  /** An oVirt operating system name such as `other` or `rhel_9x64`. */
  osType: string;
  displayType: DisplayType;
  /** The cluster the VM belongs to, kept in the domain metadata. */
  clusterId: string;
}

/** One domain defined on a host, with its current power state. */
export interface DomainStatus {
  /** The libvirt domain UUID; for managed domains, the Drover VM id. */
  uuid: string;
  /** The libvirt domain name. */
  name: string;
  state: PowerState;
  /** True when Drover defined the domain (it carries Drover metadata). */
  managed: boolean;
}

/** The operations an agent performs on one domain; see proto CommandKind. */
export type CommandKind = 'define' | 'start' | 'shutdown' | 'destroy' | 'suspend' | 'resume' | 'reboot' | 'undefine' | 'pause';

/** A command as the agent receives it. */
export interface HostCommand {
  /** Unique per operation; a repeated id is answered with the first outcome. */
  commandId: string;
  taskId: string;
  kind: CommandKind;
  vmId: string;
  /** Present for `define` and `start`. */
  spec?: VmSpec;
}

/** Why a command failed; see proto CommandError. */
export type CommandErrorKind = 'invalid_state' | 'domain_not_found' | 'invalid_command' | 'hypervisor_failure' | 'timed_out';

/** The outcome of a command. */
export type CommandOutcome =
  | { ok: true; domain?: DomainStatus }
  | { ok: false; error: CommandErrorKind; message: string; domain?: DomainStatus };

/** The facts an agent registers its host with; see proto Hello. */
export interface HostFacts {
  hostId: string;
  hostname: string;
  cpuCount: number;
  cpuModel: string;
  memoryBytes: number;
  libvirtVersion: string;
  hypervisorType: string;
  hypervisorVersion: string;
  libvirtUri: string;
  agentVersion: string;
  /** The cluster a new host should join; empty for the default cluster. */
  cluster: string;
}

/** A change of one domain, as an agent observed it. */
export interface DomainChange {
  domain: DomainStatus;
  /** True when the domain is no longer defined on the host. */
  removed: boolean;
}
