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
export const powerStates = ['running', 'paused', 'shutoff', 'suspended', 'shutting_down', 'crashed', 'pm_suspended'] as const;
export type PowerState = (typeof powerStates)[number];

/** The display protocol a VM's console uses. */
export type DisplayType = 'vnc' | 'spice';

/**
 * A storage domain as a host needs to know it. The agent decides where the
 * storage lives on the host: a `localfs` domain is the directory `path`; an
 * `nfs` or `posixfs` domain is shared storage that the host's administrator
 * mounted under the agent's mount root, at the place oVirt would mount it
 * (Drover does not mount storage itself). Each domain keeps its volumes in
 * `<that place>/<id>/images/`.
 */
export interface StorageSpec {
  /** The Drover storage domain id. */
  id: string;
  kind: 'localfs' | 'nfs' | 'posixfs';
  /** For nfs, the export's server; empty otherwise. */
  address: string;
  /** The directory (localfs), the export's path (nfs), or the file system's spec (posixfs). */
  path: string;
}

/** The on-disk format of a volume. */
export type VolumeFormat = 'qcow2' | 'raw';

/** One volume: the image of a Drover disk on a storage domain. The volume's name is the disk id. */
export interface VolumeRef {
  storage: StorageSpec;
  /** The Drover disk id. */
  volumeId: string;
  format: VolumeFormat;
}

/** What it takes to create a volume. */
export interface VolumeSpec extends VolumeRef {
  /** The virtual size the guest sees, in bytes. */
  capacityBytes: number;
  /** When false, the volume's space is allocated up front. */
  sparse: boolean;
  /** A qcow2 volume whose reads fall through to this one (a thin copy of a template's disk); only with format qcow2. */
  backing?: VolumeRef;
  /** A volume whose content is copied into the new one (a full copy); exclusive with backing. */
  copyOf?: VolumeRef;
}

/** What a host reports about a volume it created or was asked about. */
export interface VolumeFacts {
  /** The volume's file on the host. */
  path: string;
  /** The space the volume takes on the storage, in bytes. */
  actualSizeBytes: number;
}

/** The space of a storage domain as one host sees it. */
export interface StorageUsage {
  storageId: string;
  /** Bytes free for new data. */
  availableBytes: number;
  /** Bytes in use on the file system. */
  usedBytes: number;
}

/** The bus a disk is attached with, in oVirt's words. */
export type DiskBus = 'virtio' | 'virtio_scsi' | 'sata' | 'ide';

/** A disk device of a VM. */
export interface DiskDevice {
  /** The Drover disk id; it names the device (libvirt's serial). */
  diskId: string;
  volume: VolumeRef;
  bus: DiskBus;
  bootable: boolean;
  readOnly: boolean;
}

/** A network as a host realizes it. */
export interface NetworkSpec {
  id: string;
  name: string;
  /** The 802.1Q tag, or null for an untagged network. */
  vlanId: number | null;
  /** The MTU, or 0 for the default. */
  mtu: number;
}

/** The model of a virtual NIC, in oVirt's words. */
export type NicModel = 'virtio' | 'e1000' | 'rtl8139';

/** A network interface of a VM. */
export interface NicDevice {
  /** The Drover NIC id. */
  nicId: string;
  name: string;
  mac: string;
  model: NicModel;
  /** The network the NIC is connected to, or null for a NIC with no network. */
  network: NetworkSpec | null;
  /** Whether the link is up. */
  linked: boolean;
}

/**
 * How a VM's virtual CPU is modelled, in oVirt's words: `host_passthrough`
 * (the host's own CPU), `host_model` (a named model closest to the host's),
 * `custom` (the named model `customCpuModel`).
 */
export const cpuModes = ['custom', 'host_model', 'host_passthrough'] as const;
export type CpuMode = (typeof cpuModes)[number];

/**
 * A VM's chipset and firmware, in oVirt's words: SeaBIOS on i440fx or q35,
 * UEFI (OVMF) on q35, UEFI with secure boot on q35.
 */
export const biosTypes = ['i440fx_sea_bios', 'q35_sea_bios', 'q35_ovmf', 'q35_secure_boot'] as const;
export type BiosType = (typeof biosTypes)[number];

/**
 * What cloud-init configures in a guest at its start, from oVirt's
 * Initialization; empty strings and lists mean "not set". The agent writes it
 * to a NoCloud seed. `rootPassword` is a secret: it must not be logged.
 */
export interface CloudInitSpec {
  hostName: string;
  /** The user the password and keys are for; root when empty. */
  userName: string;
  rootPassword: string;
  authorizedSshKeys: string[];
  /** Whether the guest makes new SSH host keys. */
  regenerateSshKeys: boolean;
  timezone: string;
  dnsServers: string[];
  dnsSearch: string[];
  /** cloud-config text appended to the generated user-data, as oVirt appends it. */
  customScript: string;
}

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
  /** The VM's plugged disks (active attachments), in boot order first. */
  disks: DiskDevice[];
  /** The VM's plugged NICs. */
  nics: NicDevice[];
  /** The medium in the VM's CD-ROM drive; the drive is there, empty, when absent. */
  cdrom?: IsoFileRef;
  /** The devices the VM boots from, in order; hd, cdrom, network when absent. */
  bootDevices?: BootDevice[];
  /** The CPU mode; absent for the host's default (host-model on KVM, the emulator's default CPU otherwise). */
  cpuMode?: CpuMode;
  /** The CPU model of the `custom` mode (also when no mode is given), a QEMU model name such as Nehalem. */
  customCpuModel?: string;
  /** The machine type: `q35`, `pc` (i440fx), or a versioned name of QEMU's such as `pc-q35-7.2`; absent for what `biosType` implies, else QEMU's default. */
  machine?: string;
  /** The firmware; absent for SeaBIOS. */
  biosType?: BiosType;
  /** Present when the start attaches a cloud-init seed. */
  cloudInit?: CloudInitSpec;
}

/** What a VM boots from, in oVirt's words: its bootable disk, its CD-ROM, the network (PXE). */
export const bootDevices = ['hd', 'cdrom', 'network'] as const;
export type BootDevice = (typeof bootDevices)[number];

/**
 * A file of a storage domain's ISO directory (`<domain directory>/<id>/images/11111111-1111-1111-1111-111111111111/`,
 * where oVirt keeps ISO images), which a CD-ROM drive can hold.
 */
export interface IsoFileRef {
  storage: StorageSpec;
  /** The file's name in the ISO directory: no path components. */
  name: string;
}

/** A file of a storage domain's ISO directory, as a host lists it. */
export interface IsoFileFacts {
  name: string;
  sizeBytes: number;
}

/** The medium in the CD-ROM drive of a running domain, as its host reports it. */
export interface MediumFacts {
  /** The storage domain whose ISO directory holds the medium; empty when the drive is empty or holds a file from elsewhere. */
  storageId: string;
  /** The file's name in that ISO directory, the file's full path when it lies elsewhere, or empty for an empty drive. */
  name: string;
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
export const domainCommandKinds = ['define', 'start', 'shutdown', 'destroy', 'suspend', 'resume', 'reboot', 'undefine', 'reset'] as const;
export type DomainCommandKind = (typeof domainCommandKinds)[number];

/** The operations an agent performs on storage; see proto CommandKind. */
export const storageCommandKinds = ['prepare_storage', 'release_storage', 'create_volume', 'delete_volume', 'list_iso_files', 'check_volume_unused'] as const;
export type StorageCommandKind = (typeof storageCommandKinds)[number];

/** The device changes an agent makes to a running domain; see proto CommandKind. */
export const deviceCommandKinds = ['plug_device', 'unplug_device'] as const;
export type DeviceCommandKind = (typeof deviceCommandKinds)[number];

/** The operations on the CD-ROM drive of a running domain; see proto CommandKind. */
export const mediumCommandKinds = ['change_medium', 'read_medium'] as const;
export type MediumCommandKind = (typeof mediumCommandKinds)[number];

/** The operations on a running domain's graphics console; see proto CommandKind. */
export const consoleCommandKinds = ['set_console_ticket', 'describe_console'] as const;
export type ConsoleCommandKind = (typeof consoleCommandKinds)[number];

/** The operations an agent performs on a network; see proto CommandKind. */
export const networkCommandKinds = ['prepare_network', 'release_network'] as const;
export type NetworkCommandKind = (typeof networkCommandKinds)[number];

/** The commands of a live migration; see proto CommandKind. */
export const migrationCommandKinds = ['prepare_incoming', 'migrate', 'abort_migration', 'inspect_domain', 'discard_incoming'] as const;
export type MigrationCommandKind = (typeof migrationCommandKinds)[number];

export type CommandKind = DomainCommandKind | StorageCommandKind | DeviceCommandKind | MediumCommandKind | ConsoleCommandKind | NetworkCommandKind | MigrationCommandKind;

interface CommandBase {
  /** Unique per operation; a repeated id is answered with the first outcome. */
  commandId: string;
  /** The task the command belongs to, for logs only; a task may send several commands. */
  taskId: string;
}

/** A command on one domain. */
export interface DomainCommand extends CommandBase {
  kind: DomainCommandKind;
  vmId: string;
  /** Present for `define` and `start`. */
  spec?: VmSpec;
}

/** A command on a storage domain (`prepare_storage`, `release_storage`) or a volume (`create_volume`, `delete_volume`, `check_volume_unused`). */
export interface StorageCommand extends CommandBase {
  kind: StorageCommandKind;
  storage: StorageSpec;
  /** Present for `create_volume`. */
  volume?: VolumeSpec;
  /** Present for `delete_volume` and `check_volume_unused`. */
  volumeRef?: VolumeRef;
}

/**
 * Plugs a device into, or unplugs it from, the running domain of a VM, and
 * makes `spec` (for an unplug, `spec` without the device) the domain's
 * persistent definition. `spec` has the device in both cases. Nothing changes
 * when the hypervisor refuses.
 */
export interface DeviceCommand extends CommandBase {
  kind: DeviceCommandKind;
  vmId: string;
  spec: VmSpec;
  /** The disk or NIC id of the device that changes. */
  deviceId: string;
}

/**
 * Puts `medium` into the CD-ROM drive of the running (or paused) domain of a
 * VM, or empties the drive when there is none (`change_medium`), or reads
 * what the drive holds (`read_medium`). Only the running guest sees a change;
 * the persistent definition stays as it is.
 */
export interface MediumCommand extends CommandBase {
  kind: MediumCommandKind;
  vmId: string;
  /** The medium `change_medium` inserts; absent to eject. */
  medium?: IsoFileRef;
}

/** A password for a domain's graphics console, valid for `validSeconds` from when the host sets it; see proto ConsoleTicket. */
export interface ConsoleTicket {
  password: string;
  validSeconds: number;
  /** The console the password is for; a running console of the other protocol is left alone. */
  protocol: DisplayType;
}

/**
 * Sets a ticket on the graphics console of a VM's running domain
 * (`set_console_ticket`, which needs `ticket`), or only describes the console
 * (`describe_console`).
 */
export interface ConsoleCommand extends CommandBase {
  kind: ConsoleCommandKind;
  vmId: string;
  ticket?: ConsoleTicket;
}


export function isConsoleCommand(command: HostCommand): command is ConsoleCommand {
  return (consoleCommandKinds as readonly string[]).includes(command.kind);
}
/** Makes a network exist on the host (`prepare_network`) or removes it (`release_network`). */
export interface NetworkCommand extends CommandBase {
  kind: NetworkCommandKind;
  network: NetworkSpec;
}

/** Where and how a migration moves a domain; see proto MigrationSpec. */
export interface MigrationTarget {
  /** The attempt's id (a UUID), written into the domain's metadata before it moves. */
  migrationId: string;
  /** The libvirt URI the source's libvirtd reaches the destination's at (the destination's HostFacts.migrationUri). */
  destinationUri: string;
  /** The host name or address QEMU's migration stream goes to (the destination's HostFacts.migrationAddress). */
  destinationAddress: string;
  /** How long the migration may make no progress before the agent aborts it. */
  stallTimeoutMs: number;
  /** How long the migration may run in all before the agent aborts it. */
  deadlineMs: number;
  /** Every disk is on storage both hosts reach: nothing is copied, and the hypervisor is told the storage is shared. */
  sharedStorage: boolean;
  /** A cap on the migration stream in MiB/s; 0 for none. */
  bandwidthMiBPerSecond: number;
}

/**
 * A command of a live migration (see proto CommandKind): `prepare_incoming`
 * (on the destination, with `spec`), `migrate` (on the source, with
 * `migration`), `abort_migration` and `inspect_domain` (either host), and
 * `discard_incoming` (on the destination, with `migration`).
 */
export interface MigrationCommand extends CommandBase {
  kind: MigrationCommandKind;
  vmId: string;
  spec?: VmSpec;
  migration?: MigrationTarget;
}

/** A command as the agent receives it. */
export type HostCommand = DomainCommand | StorageCommand | DeviceCommand | MediumCommand | ConsoleCommand | NetworkCommand | MigrationCommand;

const migrationKinds: ReadonlySet<string> = new Set(migrationCommandKinds);

export function isMigrationCommand(command: HostCommand): command is MigrationCommand {
  return migrationKinds.has(command.kind);
}

/** How a migration job advances, from the source hypervisor's statistics; see proto MigrationProgress. */
export interface MigrationProgress {
  dataTotalBytes: number;
  dataProcessedBytes: number;
  dataRemainingBytes: number;
  elapsedMs: number;
}

/** Why a command failed; see proto CommandError. */
export type CommandErrorKind =
  | 'invalid_state'
  | 'domain_not_found'
  | 'invalid_command'
  | 'hypervisor_failure'
  | 'timed_out'
  | 'not_supported'
  | 'storage_unreachable'
  | 'no_space'
  | 'in_use'
  | 'hypervisor_unreachable';

/** What a command's outcome may carry besides success or failure. */
export interface OutcomeFacts {
  /** The domain's state after the command. */
  domain?: DomainStatus;
  /** The volume a `create_volume` made. */
  volume?: VolumeFacts;
  /** The storage domain's space after a storage command. */
  storage?: StorageUsage;
  /** The files of the storage domain's ISO directory, after `list_iso_files`. */
  isoFiles?: IsoFileFacts[];
  /** The medium in the drive after a medium command. */
  medium?: MediumFacts;
  /** The domain's graphics console after a console command. */
  console?: ConsoleFacts;
  /** How a `reboot` restarted the guest. */
  reboot?: RebootFacts;
  /** True when a command on a domain failed and its state could not be read afterwards either: `domain` is then absent and says nothing. */
  domainUnknown?: boolean;
  /** After `inspect_domain`: the migration id in the domain's metadata, if any. */
  migrationId?: string;
  /** After `inspect_domain`: true while a migration job of the domain runs on the host. */
  migrationJobActive?: boolean;
}

/** The graphics console of a running domain as the hypervisor reports it; see proto ConsoleFacts. */
export interface ConsoleFacts {
  protocol: DisplayType;
  /** The address the console listens on. */
  address: string;
  /** The plain TCP port, 0 when there is none. */
  port: number;
  /** The TLS port (SPICE), 0 when there is none. */
  tlsPort: number;
}

/** How a reboot restarted a guest: as asked, or by a reset after the guest had not rebooted in time. */
export interface RebootFacts {
  /** True when the guest had not rebooted within the reboot timeout and the domain was reset. */
  reset: boolean;
  /** How long the guest was waited for: until it rebooted, or the whole timeout before the reset. */
  waitedMs: number;
}

/** The outcome of a command. */
export type CommandOutcome = ({ ok: true } | { ok: false; error: CommandErrorKind; message: string }) & OutcomeFacts;

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
  /** The libvirt domain type of the host's guests: kvm, qemu (emulation) or test. */
  domainType: string;
  /** The libvirt URI another host's libvirtd migrates domains to this host at; empty when the host takes none. */
  migrationUri: string;
  /** The host name or address QEMU's migration stream reaches this host at. */
  migrationAddress: string;
}

/** A change of one domain, as an agent observed it. */
export interface DomainChange {
  domain: DomainStatus;
  /** True when the domain is no longer defined on the host. */
  removed: boolean;
}
