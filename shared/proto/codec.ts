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
import type { PowerState as ProtoPowerState } from './generated/drover/agent/v1/PowerState.js';
import type { CommandKind as ProtoCommandKind } from './generated/drover/agent/v1/CommandKind.js';
import type { CommandError as ProtoCommandError } from './generated/drover/agent/v1/CommandError.js';
import { deviceCommandKinds, storageCommandKinds } from '../model.js';
import type {
  CommandErrorKind,
  CommandKind,
  CommandOutcome,
  DiskBus,
  DeviceCommandKind,
  DiskDevice,
  DomainCommandKind,
  DomainStatus,
  HostCommand,
  HostFacts,
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
  plug_device: 'PLUG_DEVICE',
  unplug_device: 'UNPLUG_DEVICE',
};

const storageKinds: ReadonlySet<CommandKind> = new Set(storageCommandKinds);
const deviceKinds: ReadonlySet<CommandKind> = new Set(deviceCommandKinds);

const errorToProto: Record<CommandErrorKind, Named<ProtoCommandError>> = {
  invalid_state: 'INVALID_STATE',
  domain_not_found: 'DOMAIN_NOT_FOUND',
  invalid_command: 'INVALID_COMMAND',
  hypervisor_failure: 'HYPERVISOR_FAILURE',
  timed_out: 'TIMED_OUT',
  not_supported: 'NOT_SUPPORTED',
  storage_unreachable: 'STORAGE_UNREACHABLE',
  no_space: 'NO_SPACE',
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

function encodeNic(nic: NicDevice): ProtoNicDevice {
  return {
    nic_id: nic.nicId,
    name: nic.name,
    mac: nic.mac,
    model: nic.model,
    network: nic.network ? { id: nic.network.id, name: nic.network.name, vlan_id: nic.network.vlanId ?? 0, has_vlan: nic.network.vlanId !== null, mtu: nic.network.mtu } : null,
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
    network: network ? { id: network.id, name: network.name, vlanId: network.has_vlan ? network.vlan_id : null, mtu: network.mtu } : null,
    linked: nic.linked,
  };
}

export function encodeUsage(usage: StorageUsage): ProtoStorageUsage {
  return { storage_id: usage.storageId, available_bytes: usage.availableBytes, used_bytes: usage.usedBytes };
}

export function decodeUsage(usage: ProtoStorageUsage__Output): StorageUsage {
  return { storageId: usage.storage_id, availableBytes: Number(usage.available_bytes), usedBytes: Number(usage.used_bytes) };
}

export function encodeCommand(command: HostCommand): Command {
  const base = { command_id: command.commandId, task_id: command.taskId, kind: kindToProto[command.kind] };
  if ('storage' in command) {
    return {
      ...base,
      storage: encodeStorage(command.storage),
      volume: command.volume ? encodeVolumeSpec(command.volume) : null,
      volume_ref: command.volumeRef ? encodeVolumeRef(command.volumeRef) : null,
    };
  }
  return {
    ...base,
    vm_id: command.vmId,
    spec: command.spec ? encodeSpec(command.spec) : null,
    device_id: 'deviceId' in command ? command.deviceId : '',
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
  if (deviceKinds.has(kind)) {
    return { ...base, kind: kind as DeviceCommandKind, vmId: command.vm_id, spec: decodeSpec(required(command.spec, 'spec')), deviceId: command.device_id };
  }
  return { ...base, kind: kind as DomainCommandKind, vmId: command.vm_id, spec: command.spec ? decodeSpec(command.spec) : undefined };
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
    domain_unknown: outcome.domainUnknown ?? false,
  };
}

export function decodeOutcome(result: CommandResult__Output): CommandOutcome {
  const facts = {
    domain: result.domain ? decodeDomain(result.domain) : undefined,
    volume: result.volume ? ({ path: result.volume.path, actualSizeBytes: Number(result.volume.actual_size_bytes) } satisfies VolumeFacts) : undefined,
    storage: result.storage ? decodeUsage(result.storage) : undefined,
    domainUnknown: result.domain_unknown || undefined,
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
  };
}
