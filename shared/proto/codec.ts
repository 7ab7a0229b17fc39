import type {
  Command__Output,
  Command,
  CommandResult,
  CommandResult__Output,
  DomainState,
  DomainState__Output,
  Hello,
  Hello__Output,
  ProtoVmSpec,
  ProtoVmSpec__Output,
} from './load.js';
import type { StorageSpec as ProtoStorageSpec, StorageSpec__Output as ProtoStorageSpec__Output } from './generated/drover/agent/v1/StorageSpec.js';
import type { VolumeRef as ProtoVolumeRef, VolumeRef__Output as ProtoVolumeRef__Output } from './generated/drover/agent/v1/VolumeRef.js';
import type { VolumeSpec as ProtoVolumeSpec, VolumeSpec__Output as ProtoVolumeSpec__Output } from './generated/drover/agent/v1/VolumeSpec.js';
import type { StorageUsage as ProtoStorageUsage, StorageUsage__Output as ProtoStorageUsage__Output } from './generated/drover/agent/v1/StorageUsage.js';
import type { DiskDevice as ProtoDiskDevice, DiskDevice__Output as ProtoDiskDevice__Output } from './generated/drover/agent/v1/DiskDevice.js';
import type { NicDevice as ProtoNicDevice, NicDevice__Output as ProtoNicDevice__Output } from './generated/drover/agent/v1/NicDevice.js';
import type { NetworkSpec as ProtoNetworkSpec, NetworkSpec__Output as ProtoNetworkSpec__Output } from './generated/drover/agent/v1/NetworkSpec.js';
import type { PowerState as ProtoPowerState } from './generated/drover/agent/v1/PowerState.js';
import type { CommandKind as ProtoCommandKind } from './generated/drover/agent/v1/CommandKind.js';
import type { CommandError as ProtoCommandError } from './generated/drover/agent/v1/CommandError.js';
import type { IsoFile as ProtoIsoFile, IsoFile__Output as ProtoIsoFile__Output } from './generated/drover/agent/v1/IsoFile.js';
import type { ConsoleFacts as ProtoConsoleFacts, ConsoleFacts__Output as ProtoConsoleFacts__Output } from './generated/drover/agent/v1/ConsoleFacts.js';
import type { MigrationProgress as ProtoMigrationProgress, MigrationProgress__Output as ProtoMigrationProgress__Output } from './generated/drover/agent/v1/MigrationProgress.js';
import type { MigrationSpec as ProtoMigrationSpec, MigrationSpec__Output as ProtoMigrationSpec__Output } from './generated/drover/agent/v1/MigrationSpec.js';
import type { CloudInit as ProtoCloudInit, CloudInit__Output as ProtoCloudInit__Output } from './generated/drover/agent/v1/CloudInit.js';
import {
  biosTypes,
  bootDevices,
  consoleCommandKinds,
  cpuModes,
  deviceCommandKinds,
  isConsoleCommand,
  isMigrationCommand,
  mediumCommandKinds,
  migrationCommandKinds,
  networkCommandKinds,
  storageCommandKinds,
  type BootDevice,
  type CloudInitSpec,
  type IsoFileRef,
  type MediumCommandKind,
  type MigrationCommandKind,
  type MigrationProgress,
  type MigrationTarget,
} from '../model.js';
import type {
  CommandErrorKind,
  CommandKind,
  CommandOutcome,
  ConsoleCommandKind,
  ConsoleFacts,
  DiskBus,
  DeviceCommandKind,
  DiskDevice,
  DomainCommandKind,
  DomainStatus,
  HostCommand,
  HostFacts,
  NetworkCommandKind,
  NetworkSpec,
  NicDevice,
  NicModel,
  PowerState,
  StorageCommandKind,
  StorageSpec,
  StorageUsage,
  VmSpec,
  VolumeFacts,
  VolumeFormat,
  VolumeRef,
  VolumeSpec,
} from '../model.js';

type Named<T> = Extract<T, string>;

const powerToProto: Record<PowerState, Named<ProtoPowerState>> = {
  running: 'RUNNING',
  paused: 'PAUSED',
  shutoff: 'SHUTOFF',
  suspended: 'SUSPENDED',
  shutting_down: 'SHUTTING_DOWN',
  crashed: 'CRASHED',
  pm_suspended: 'PM_SUSPENDED',
};

const kindToProto: Record<CommandKind, Named<ProtoCommandKind>> = {
  define: 'DEFINE',
  start: 'START',
  shutdown: 'SHUTDOWN',
  destroy: 'DESTROY',
  suspend: 'SUSPEND',
  resume: 'RESUME',
  reboot: 'REBOOT',
  undefine: 'UNDEFINE',
  prepare_storage: 'PREPARE_STORAGE',
  release_storage: 'RELEASE_STORAGE',
  create_volume: 'CREATE_VOLUME',
  delete_volume: 'DELETE_VOLUME',
  check_volume_unused: 'CHECK_VOLUME_UNUSED',
  plug_device: 'PLUG_DEVICE',
  unplug_device: 'UNPLUG_DEVICE',
  list_iso_files: 'LIST_ISO_FILES',
  change_medium: 'CHANGE_MEDIUM',
  read_medium: 'READ_MEDIUM',
  set_console_ticket: 'SET_CONSOLE_TICKET',
  describe_console: 'DESCRIBE_CONSOLE',
  reset: 'RESET',
  prepare_network: 'PREPARE_NETWORK',
  release_network: 'RELEASE_NETWORK',
  prepare_incoming: 'PREPARE_INCOMING',
  migrate: 'MIGRATE',
  abort_migration: 'ABORT_MIGRATION',
  inspect_domain: 'INSPECT_DOMAIN',
  discard_incoming: 'DISCARD_INCOMING',
};

const storageKinds: ReadonlySet<CommandKind> = new Set(storageCommandKinds);
const deviceKinds: ReadonlySet<CommandKind> = new Set(deviceCommandKinds);
const mediumKinds: ReadonlySet<CommandKind> = new Set(mediumCommandKinds);
const consoleKinds: ReadonlySet<CommandKind> = new Set(consoleCommandKinds);
const networkKinds: ReadonlySet<CommandKind> = new Set(networkCommandKinds);
const migrationKinds: ReadonlySet<CommandKind> = new Set(migrationCommandKinds);

const errorToProto: Record<CommandErrorKind, Named<ProtoCommandError>> = {
  invalid_state: 'INVALID_STATE',
  domain_not_found: 'DOMAIN_NOT_FOUND',
  invalid_command: 'INVALID_COMMAND',
  hypervisor_failure: 'HYPERVISOR_FAILURE',
  timed_out: 'TIMED_OUT',
  not_supported: 'NOT_SUPPORTED',
  storage_unreachable: 'STORAGE_UNREACHABLE',
  no_space: 'NO_SPACE',
  in_use: 'IN_USE',
  hypervisor_unreachable: 'HYPERVISOR_UNREACHABLE',
};

function invert<K extends string, V extends string>(map: Record<K, V>): Map<V, K> {
  return new Map(Object.entries(map).map(([k, v]) => [v as V, k as K]));
}

const powerFromProto = invert(powerToProto);
const kindFromProto = invert(kindToProto);
const errorFromProto = invert(errorToProto);

export class ProtocolError extends Error {}

function decodeEnum<T>(map: Map<string, T>, value: unknown, what: string): T {
  const decoded = typeof value === 'string' ? map.get(value) : undefined;
  if (decoded === undefined) throw new ProtocolError(`unknown ${what} ${String(value)}`);
  return decoded;
}

export function encodeDomain(domain: DomainStatus): DomainState {
  return { uuid: domain.uuid, name: domain.name, state: powerToProto[domain.state], managed: domain.managed };
}

export function decodeDomain(domain: DomainState__Output): DomainStatus {
  return { uuid: domain.uuid, name: domain.name, state: decodeEnum(powerFromProto, domain.state, 'power state'), managed: domain.managed };
}

export function encodeSpec(spec: VmSpec): ProtoVmSpec {
  return {
    id: spec.id,
    name: spec.name,
    description: spec.description,
    memory_bytes: spec.memoryBytes,
    cpu_sockets: spec.cpu.sockets,
    cpu_cores: spec.cpu.cores,
    cpu_threads: spec.cpu.threads,
    os_type: spec.osType,
    display_type: spec.displayType,
    cluster_id: spec.clusterId,
    disks: spec.disks.map(encodeDisk),
    nics: spec.nics.map(encodeNic),
    cdrom: spec.cdrom ? encodeIsoFile(spec.cdrom) : null,
    boot_devices: spec.bootDevices ?? [],
    cpu_mode: spec.cpuMode ?? '',
    custom_cpu_model: spec.customCpuModel ?? '',
    machine: spec.machine ?? '',
    bios_type: spec.biosType ?? '',
    cloud_init: spec.cloudInit ? encodeCloudInit(spec.cloudInit) : undefined,
  };
}

function encodeCloudInit(init: CloudInitSpec): ProtoCloudInit {
  return {
    host_name: init.hostName,
    user_name: init.userName,
    root_password: init.rootPassword,
    authorized_ssh_keys: init.authorizedSshKeys,
    regenerate_ssh_keys: init.regenerateSshKeys,
    timezone: init.timezone,
    dns_servers: init.dnsServers,
    dns_search: init.dnsSearch,
    custom_script: init.customScript,
  };
}

function decodeCloudInit(init: ProtoCloudInit__Output): CloudInitSpec {
  return {
    hostName: init.host_name,
    userName: init.user_name,
    rootPassword: init.root_password,
    authorizedSshKeys: init.authorized_ssh_keys,
    regenerateSshKeys: init.regenerate_ssh_keys,
    timezone: init.timezone,
    dnsServers: init.dns_servers,
    dnsSearch: init.dns_search,
    customScript: init.custom_script,
  };
}

export function decodeSpec(spec: ProtoVmSpec__Output): VmSpec {
  if (spec.display_type !== 'vnc' && spec.display_type !== 'spice') throw new ProtocolError(`unknown display type ${spec.display_type}`);
  return {
    id: spec.id,
    name: spec.name,
    description: spec.description,
    memoryBytes: Number(spec.memory_bytes),
    cpu: { sockets: spec.cpu_sockets, cores: spec.cpu_cores, threads: spec.cpu_threads },
    osType: spec.os_type,
    displayType: spec.display_type,
    clusterId: spec.cluster_id,
    disks: spec.disks.map(decodeDisk),
    nics: spec.nics.map(decodeNic),
    cdrom: spec.cdrom ? decodeIsoFile(spec.cdrom) : undefined,
    bootDevices: spec.boot_devices.length > 0 ? spec.boot_devices.map((device) => oneOf<BootDevice>(bootDevices, device, 'boot device')) : undefined,
    cpuMode: spec.cpu_mode ? oneOf(cpuModes, spec.cpu_mode, 'CPU mode') : undefined,
    customCpuModel: spec.custom_cpu_model || undefined,
    machine: spec.machine || undefined,
    biosType: spec.bios_type ? oneOf(biosTypes, spec.bios_type, 'BIOS type') : undefined,
    cloudInit: spec.cloud_init ? decodeCloudInit(spec.cloud_init) : undefined,
  };
}

function oneOf<T extends string>(allowed: readonly T[], value: string, what: string): T {
  if (!allowed.includes(value as T)) throw new ProtocolError(`unknown ${what} ${value}`);
  return value as T;
}

function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new ProtocolError(`${what} is missing`);
  return value;
}

export function encodeStorage(storage: StorageSpec): ProtoStorageSpec {
  return { id: storage.id, kind: storage.kind, address: storage.address, path: storage.path };
}

export function decodeStorage(storage: ProtoStorageSpec__Output): StorageSpec {
  return { id: storage.id, kind: oneOf(['localfs', 'nfs', 'posixfs'] as const, storage.kind, 'storage kind'), address: storage.address, path: storage.path };
}

function encodeIsoFile(file: IsoFileRef): ProtoIsoFile {
  return { storage: encodeStorage(file.storage), name: file.name };
}

function decodeIsoFile(file: ProtoIsoFile__Output): IsoFileRef {
  return { storage: decodeStorage(required(file.storage, 'ISO file storage')), name: file.name };
}

function encodeVolumeRef(volume: VolumeRef): ProtoVolumeRef {
  return { storage: encodeStorage(volume.storage), volume_id: volume.volumeId, format: volume.format };
}

function decodeVolumeRef(volume: ProtoVolumeRef__Output): VolumeRef {
  return {
    storage: decodeStorage(required(volume.storage, 'volume storage')),
    volumeId: volume.volume_id,
    format: oneOf<VolumeFormat>(['qcow2', 'raw'], volume.format, 'volume format'),
  };
}

function encodeVolumeSpec(volume: VolumeSpec): ProtoVolumeSpec {
  return {
    volume: encodeVolumeRef(volume),
    capacity_bytes: volume.capacityBytes,
    sparse: volume.sparse,
    backing: volume.backing ? encodeVolumeRef(volume.backing) : null,
    copy_of: volume.copyOf ? encodeVolumeRef(volume.copyOf) : null,
  };
}

function decodeVolumeSpec(volume: ProtoVolumeSpec__Output): VolumeSpec {
  return {
    ...decodeVolumeRef(required(volume.volume, 'volume')),
    capacityBytes: Number(volume.capacity_bytes),
    sparse: volume.sparse,
    backing: volume.backing ? decodeVolumeRef(volume.backing) : undefined,
    copyOf: volume.copy_of ? decodeVolumeRef(volume.copy_of) : undefined,
  };
}

function encodeDisk(disk: DiskDevice): ProtoDiskDevice {
  return { disk_id: disk.diskId, volume: encodeVolumeRef(disk.volume), bus: disk.bus, bootable: disk.bootable, read_only: disk.readOnly };
}

function decodeDisk(disk: ProtoDiskDevice__Output): DiskDevice {
  return {
    diskId: disk.disk_id,
    volume: decodeVolumeRef(required(disk.volume, 'disk volume')),
    bus: oneOf<DiskBus>(['virtio', 'virtio_scsi', 'sata', 'ide'], disk.bus, 'disk bus'),
    bootable: disk.bootable,
    readOnly: disk.read_only,
  };
}

function encodeNetwork(network: NetworkSpec): ProtoNetworkSpec {
  return { id: network.id, name: network.name, vlan_id: network.vlanId ?? 0, has_vlan: network.vlanId !== null, mtu: network.mtu };
}

function decodeNetwork(network: ProtoNetworkSpec__Output): NetworkSpec {
  return { id: network.id, name: network.name, vlanId: network.has_vlan ? network.vlan_id : null, mtu: network.mtu };
}

function encodeNic(nic: NicDevice): ProtoNicDevice {
  return {
    nic_id: nic.nicId,
    name: nic.name,
    mac: nic.mac,
    model: nic.model,
    network: nic.network ? encodeNetwork(nic.network) : null,
    linked: nic.linked,
  };
}

function decodeNic(nic: ProtoNicDevice__Output): NicDevice {
  const network = nic.network;
  return {
    nicId: nic.nic_id,
    name: nic.name,
    mac: nic.mac,
    model: oneOf<NicModel>(['virtio', 'e1000', 'rtl8139'], nic.model, 'NIC model'),
    network: network ? decodeNetwork(network) : null,
    linked: nic.linked,
  };
}

export function encodeUsage(usage: StorageUsage): ProtoStorageUsage {
  return { storage_id: usage.storageId, available_bytes: usage.availableBytes, used_bytes: usage.usedBytes };
}

export function decodeUsage(usage: ProtoStorageUsage__Output): StorageUsage {
  return { storageId: usage.storage_id, availableBytes: Number(usage.available_bytes), usedBytes: Number(usage.used_bytes) };
}

function encodeMigration(target: MigrationTarget): ProtoMigrationSpec {
  return {
    migration_id: target.migrationId,
    destination_uri: target.destinationUri,
    destination_address: target.destinationAddress,
    stall_timeout_ms: target.stallTimeoutMs,
    deadline_ms: target.deadlineMs,
    shared_storage: target.sharedStorage,
    bandwidth_mib_per_second: target.bandwidthMiBPerSecond,
  };
}

function decodeMigration(target: ProtoMigrationSpec__Output): MigrationTarget {
  return {
    migrationId: target.migration_id,
    destinationUri: target.destination_uri,
    destinationAddress: target.destination_address,
    stallTimeoutMs: Number(target.stall_timeout_ms),
    deadlineMs: Number(target.deadline_ms),
    sharedStorage: target.shared_storage,
    bandwidthMiBPerSecond: target.bandwidth_mib_per_second,
  };
}

export function encodeCommand(command: HostCommand): Command {
  const base = { command_id: command.commandId, task_id: command.taskId, kind: kindToProto[command.kind] };
  if (isMigrationCommand(command)) {
    return { ...base, vm_id: command.vmId, spec: command.spec ? encodeSpec(command.spec) : null, migration: command.migration ? encodeMigration(command.migration) : null };
  }
  if ('network' in command) return { ...base, network: encodeNetwork(command.network) };
  if ('storage' in command) {
    return {
      ...base,
      storage: encodeStorage(command.storage),
      volume: command.volume ? encodeVolumeSpec(command.volume) : null,
      volume_ref: command.volumeRef ? encodeVolumeRef(command.volumeRef) : null,
    };
  }
  if (isConsoleCommand(command)) {
    return { ...base, vm_id: command.vmId, console_ticket: command.ticket ? { password: command.ticket.password, valid_seconds: command.ticket.validSeconds, protocol: command.ticket.protocol } : null };
  }
  return {
    ...base,
    vm_id: command.vmId,
    spec: 'spec' in command && command.spec ? encodeSpec(command.spec) : null,
    device_id: 'deviceId' in command ? command.deviceId : '',
    medium: 'medium' in command && command.medium ? encodeIsoFile(command.medium) : null,
  };
}

export function decodeCommand(command: Command__Output): HostCommand {
  const base = { commandId: command.command_id, taskId: command.task_id };
  const kind = decodeEnum(kindFromProto, command.kind, 'command kind');
  if (storageKinds.has(kind)) {
    return {
      ...base,
      kind: kind as StorageCommandKind,
      storage: decodeStorage(required(command.storage, 'storage')),
      volume: command.volume ? decodeVolumeSpec(command.volume) : undefined,
      volumeRef: command.volume_ref ? decodeVolumeRef(command.volume_ref) : undefined,
    };
  }
  if (mediumKinds.has(kind)) {
    return { ...base, kind: kind as MediumCommandKind, vmId: command.vm_id, medium: command.medium ? decodeIsoFile(command.medium) : undefined };
  }
  if (networkKinds.has(kind)) return { ...base, kind: kind as NetworkCommandKind, network: decodeNetwork(required(command.network, 'network')) };
  if (migrationKinds.has(kind)) {
    return {
      ...base,
      kind: kind as MigrationCommandKind,
      vmId: command.vm_id,
      spec: command.spec ? decodeSpec(command.spec) : undefined,
      migration: command.migration ? decodeMigration(command.migration) : undefined,
    };
  }
  if (deviceKinds.has(kind)) {
    return { ...base, kind: kind as DeviceCommandKind, vmId: command.vm_id, spec: decodeSpec(required(command.spec, 'spec')), deviceId: command.device_id };
  }
  if (consoleKinds.has(kind)) {
    const ticket = command.console_ticket;
    return { ...base, kind: kind as ConsoleCommandKind, vmId: command.vm_id, ticket: ticket ? { password: ticket.password, validSeconds: ticket.valid_seconds, protocol: oneOf(['vnc', 'spice'] as const, ticket.protocol, 'console protocol') } : undefined };
  }
  return { ...base, kind: kind as DomainCommandKind, vmId: command.vm_id, spec: command.spec ? decodeSpec(command.spec) : undefined };
}

function encodeConsole(console: ConsoleFacts): ProtoConsoleFacts {
  return { protocol: console.protocol, address: console.address, port: console.port, tls_port: console.tlsPort };
}

function decodeConsole(console: ProtoConsoleFacts__Output): ConsoleFacts {
  return { protocol: oneOf(['vnc', 'spice'] as const, console.protocol, 'console protocol'), address: console.address, port: console.port, tlsPort: console.tls_port };
}

export function encodeOutcome(commandId: string, outcome: CommandOutcome): CommandResult {
  return {
    command_id: commandId,
    ok: outcome.ok,
    error: outcome.ok ? 'COMMAND_ERROR_UNSPECIFIED' : errorToProto[outcome.error],
    message: outcome.ok ? '' : outcome.message,
    domain: outcome.domain ? encodeDomain(outcome.domain) : null,
    volume: outcome.volume ? { path: outcome.volume.path, actual_size_bytes: outcome.volume.actualSizeBytes } : null,
    storage: outcome.storage ? encodeUsage(outcome.storage) : null,
    iso_files: (outcome.isoFiles ?? []).map((file) => ({ name: file.name, size_bytes: file.sizeBytes })),
    medium: outcome.medium ? { storage_id: outcome.medium.storageId, name: outcome.medium.name } : null,
    console: outcome.console ? encodeConsole(outcome.console) : null,
    reboot: outcome.reboot ? { reset: outcome.reboot.reset, waited_ms: outcome.reboot.waitedMs } : null,
    domain_unknown: outcome.domainUnknown ?? false,
    migration_id: outcome.migrationId ?? '',
    migration_job_active: outcome.migrationJobActive ?? false,
  };
}

export function decodeOutcome(result: CommandResult__Output): CommandOutcome {
  const facts = {
    domain: result.domain ? decodeDomain(result.domain) : undefined,
    volume: result.volume ? ({ path: result.volume.path, actualSizeBytes: Number(result.volume.actual_size_bytes) } satisfies VolumeFacts) : undefined,
    storage: result.storage ? decodeUsage(result.storage) : undefined,
    isoFiles: result.iso_files.length > 0 ? result.iso_files.map((file) => ({ name: file.name, sizeBytes: Number(file.size_bytes) })) : undefined,
    medium: result.medium ? { storageId: result.medium.storage_id, name: result.medium.name } : undefined,
    console: result.console ? decodeConsole(result.console) : undefined,
    reboot: result.reboot ? { reset: result.reboot.reset, waitedMs: Number(result.reboot.waited_ms) } : undefined,
    domainUnknown: result.domain_unknown || undefined,
    migrationId: result.migration_id || undefined,
    migrationJobActive: result.migration_job_active || undefined,
  };
  if (result.ok) return { ok: true, ...facts };
  return { ok: false, error: decodeEnum(errorFromProto, result.error, 'command error'), message: result.message, ...facts };
}

export function encodeHello(facts: HostFacts): Hello {
  return {
    host_id: facts.hostId,
    hostname: facts.hostname,
    cpu_count: facts.cpuCount,
    cpu_model: facts.cpuModel,
    memory_bytes: facts.memoryBytes,
    libvirt_version: facts.libvirtVersion,
    hypervisor_type: facts.hypervisorType,
    hypervisor_version: facts.hypervisorVersion,
    libvirt_uri: facts.libvirtUri,
    agent_version: facts.agentVersion,
    cluster: facts.cluster,
    domain_type: facts.domainType,
    migration_uri: facts.migrationUri,
    migration_address: facts.migrationAddress,
  };
}

export function decodeHello(hello: Hello__Output): HostFacts {
  return {
    hostId: hello.host_id,
    hostname: hello.hostname,
    cpuCount: hello.cpu_count,
    cpuModel: hello.cpu_model,
    memoryBytes: Number(hello.memory_bytes),
    libvirtVersion: hello.libvirt_version,
    hypervisorType: hello.hypervisor_type,
    hypervisorVersion: hello.hypervisor_version,
    libvirtUri: hello.libvirt_uri,
    agentVersion: hello.agent_version,
    cluster: hello.cluster,
    domainType: hello.domain_type,
    migrationUri: hello.migration_uri,
    migrationAddress: hello.migration_address,
  };
}

export function encodeMigrationProgress(commandId: string, vmId: string, progress: MigrationProgress): ProtoMigrationProgress {
  return {
    command_id: commandId,
    vm_id: vmId,
    data_total_bytes: progress.dataTotalBytes,
    data_processed_bytes: progress.dataProcessedBytes,
    data_remaining_bytes: progress.dataRemainingBytes,
    elapsed_ms: progress.elapsedMs,
  };
}

export function decodeMigrationProgress(message: ProtoMigrationProgress__Output): { commandId: string; vmId: string; progress: MigrationProgress } {
  return {
    commandId: message.command_id,
    vmId: message.vm_id,
    progress: {
      dataTotalBytes: Number(message.data_total_bytes),
      dataProcessedBytes: Number(message.data_processed_bytes),
      dataRemainingBytes: Number(message.data_remaining_bytes),
      elapsedMs: Number(message.elapsed_ms),
    },
  };
}
