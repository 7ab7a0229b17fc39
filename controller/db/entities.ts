import { BigIntType, EntitySchema, type Opt } from '@mikro-orm/core';
import type { BiosType, CommandKind, CpuMode, DisplayType, PowerState } from '../../shared/model.js';
import type { DesiredState, HostAdminState, HostStatus, MigrationAffinity, TaskState } from '../rules/states.js';
import type { MigrationState } from '../rules/migration.js';
import type { EventObjectType, EventSeverity, ObjectChange } from '../rules/events.js';
import type { JobStatus, StepType } from '../rules/jobs.js';

/** The id oVirt gives its Blank template, which every installation has. */
export const blankTemplateId = '00000000-0000-0000-0000-000000000000';

export type { DesiredState, HostAdminState, HostStatus, MigrationAffinity, TaskState } from '../rules/states.js';

export class DataCenter {
  id!: string;
  name!: string;
  description = '';
  local = false;
  createdAt!: number;
  updatedAt!: number;
}

export class Cluster {
  id!: string;
  name!: string;
  description = '';
  dataCenterId!: string;
  cpuArchitecture = 'x86_64';
  macPoolId!: string;
  createdAt!: number;
  updatedAt!: number;
}

export class Host {
  id!: string;
  name!: string;
  address = '';
  clusterId!: string;
  status: HostStatus = 'up';
  /** Why the host is in its status, for its administrator (what a non-operational host's agent reported); empty when there is nothing to say. */
  statusDetail = '';
  /** What the host's administrator made it: active, or (going into) maintenance; see rules/states.ts. */
  adminState: Opt<HostAdminState> = 'active';
  cpuCount = 0;
  cpuModel = '';
  memoryBytes = 0;
  libvirtVersion = '';
  hypervisorType = '';
  hypervisorVersion = '';
  domainType = '';
  libvirtUri = '';
  agentVersion = '';
  /** The libvirt URI at which other hosts' libvirtd migrate domains to this host; empty when it takes none. */
  migrationUri: Opt<string> = '';
  /** The host name or address QEMU's migration stream reaches this host at. */
  migrationAddress: Opt<string> = '';
  registeredAt!: number;
  lastSeenAt!: number;
  updatedAt!: number;
}

export class Vm {
  id!: string;
  name!: string;
  description = '';
  memoryBytes!: number;
  cpuSockets = 1;
  cpuCores = 1;
  cpuThreads = 1;
  osType = 'other';
  displayType: DisplayType = 'vnc';
  /** The boot devices in order, comma-separated (see rules/cdrom.ts). */
  bootDevices: Opt<string> = 'hd,cdrom,network';
  cpuMode: CpuMode | null = null;
  customCpuModel: string | null = null;
  customEmulatedMachine: string | null = null;
  biosType: BiosType | null = null;
  /** The VM's cloud-init settings as JSON (an Initialization, see rules/initialization.ts), or null. */
  initialization: string | null = null;
  /** oVirt's high_availability.enabled: the VM is started again on another host once its host is confirmed down. */
  highlyAvailable: Opt<boolean> = false;
  /** oVirt's high_availability.priority (0 to 100): highly available VMs restart in descending order of it. */
  highAvailabilityPriority: Opt<number> = 0;
  /** oVirt's placement_policy.affinity; see rules/states.ts. */
  migrationAffinity: Opt<MigrationAffinity> = 'migratable';
  clusterId!: string;
  hostId: string | null = null;
  powerState: PowerState | null = null;
  powerStateAt: number | null = null;
  desiredState: DesiredState = 'down';
  templateId: string = blankTemplateId;
  vmPoolId: string | null = null;
  /** For a VM of a pool: the user the VM is handed to by allocatevm, or null while it is free. */
  allocatedTo: string | null = null;
  /** Another host on which the VM's domain is active at the same time as on hostId (a migration in progress, or two copies), or null. */
  duplicateHostId: string | null = null;
  createdAt!: number;
  updatedAt!: number;
}

export type StorageKind = 'localfs' | 'nfs' | 'posixfs';
export type StorageDomainStatus = 'unattached' | 'active' | 'maintenance' | 'locked';

export class StorageDomain {
  id!: string;
  name!: string;
  description = '';
  storageType!: StorageKind;
  /** For nfs the export's server; empty otherwise. */
  address = '';
  /** The directory (localfs), the export path (nfs) or the file system (posixfs). */
  path!: string;
  /** The one host that reaches a localfs domain; null for shared storage. */
  hostId: string | null = null;
  dataCenterId: string | null = null;
  status: StorageDomainStatus = 'unattached';
  availableBytes: number | null = null;
  usedBytes: number | null = null;
  reportedAt: number | null = null;
  createdAt!: number;
  updatedAt!: number;
}

export type DiskFormat = 'cow' | 'raw';
export type DiskStatus = 'locked' | 'ok' | 'illegal';

export class Disk {
  id!: string;
  name!: string;
  description = '';
  storageDomainId!: string;
  provisionedSize!: number;
  actualSize = 0;
  format: DiskFormat = 'cow';
  sparse = true;
  status: DiskStatus = 'locked';
  /** The disk whose volume backs this one's (a thin copy of a template disk), or null. */
  parentDiskId: string | null = null;
  /** Set for a template's disk. */
  templateId: string | null = null;
  createdAt!: number;
  updatedAt!: number;
}

export type DiskInterface = 'virtio' | 'virtio_scsi' | 'sata' | 'ide';

export class DiskAttachment {
  id!: string;
  diskId!: string;
  vmId: string | null = null;
  templateId: string | null = null;
  diskInterface: DiskInterface = 'virtio';
  bootable = false;
  active = true;
  readOnly = false;
  createdAt!: number;
}

export class MacPool {
  id!: string;
  name!: string;
  description = '';
  allowDuplicates = false;
  defaultPool = false;
  /** JSON: [{ from, to }] with MAC addresses as colon-separated hex. */
  ranges!: string;
  createdAt!: number;
  updatedAt!: number;
}

export class Network {
  id!: string;
  name!: string;
  description = '';
  dataCenterId!: string;
  vlanId: number | null = null;
  mtu = 0;
  createdAt!: number;
  updatedAt!: number;
}

export class VnicProfile {
  id!: string;
  name!: string;
  description = '';
  networkId!: string;
  portMirroring = false;
  createdAt!: number;
  updatedAt!: number;
}

export type NicInterface = 'virtio' | 'e1000' | 'rtl8139';

export class Nic {
  id!: string;
  name!: string;
  vmId: string | null = null;
  templateId: string | null = null;
  nicInterface: NicInterface = 'virtio';
  mac!: string;
  /** The pool the MAC was allocated from; null for a template's NIC, which has no MAC of its own. */
  macPoolId: string | null = null;
  vnicProfileId: string | null = null;
  linked = true;
  plugged = true;
  createdAt!: number;
  updatedAt!: number;
}

export type TemplateStatus = 'locked' | 'ok' | 'illegal';

export class Template {
  id!: string;
  name!: string;
  description = '';
  clusterId: string | null = null;
  memoryBytes!: number;
  cpuSockets = 1;
  cpuCores = 1;
  cpuThreads = 1;
  osType = 'other';
  displayType: DisplayType = 'vnc';
  cpuMode: CpuMode | null = null;
  customCpuModel: string | null = null;
  customEmulatedMachine: string | null = null;
  biosType: BiosType | null = null;
  status: TemplateStatus = 'locked';
  sourceVmId: string | null = null;
  createdAt!: number;
  updatedAt!: number;
}

export type VmPoolType = 'automatic' | 'manual';

export class VmPool {
  id!: string;
  name!: string;
  description = '';
  clusterId!: string;
  templateId!: string;
  size!: number;
  prestartedVms = 0;
  maxUserVms = 1;
  poolType: VmPoolType = 'automatic';
  createdAt!: number;
  updatedAt!: number;
}

export type TaskObjectType = 'vm' | 'disk' | 'storage_domain' | 'template' | 'vm_pool' | 'host';

export class Task {
  id!: string;
  seq!: number;
  /** The object the task acts on; tasks on one object run in submission order. */
  objectType: TaskObjectType = 'vm';
  objectId!: string;
  /** The VM the task concerns, if any (the object itself, or the VM a device change is for). */
  vmId: string | null = null;
  /** The action's parameters as JSON, or null. */
  params: string | null = null;
  hostId: string | null = null;
  action!: string;
  commandKind: CommandKind | null = null;
  state: TaskState = 'queued';
  correlationId: string | null = null;
  createdAt!: number;
  startedAt: number | null = null;
  endedAt: number | null = null;
  errorKind: string | null = null;
  errorReason: string | null = null;
  errorDetail: string | null = null;
  /** What happened, in a sentence, when the outcome says more than success (a reboot that needed a reset, say). */
  description: string | null = null;
  /** The job of the request that submitted the task, if a request did; the task is one of its steps. */
  jobId: string | null = null;
  /** What the task does, as its job's step, named when it was submitted (the object may be gone since). */
  stepDescription: string | null = null;
}

/**
 * A job: what one API request set in motion (its tasks are its steps), or an
 * external job an outside system reports through the API (its steps are
 * rows of `job_steps`). A job of tasks stores no status: it is derived from
 * its tasks (rules/jobs.ts).
 */
export class Job {
  id!: string;
  correlationId!: string;
  description!: string;
  ownerId: string | null = null;
  external: Opt<boolean> = false;
  autoCleared: Opt<boolean> = true;
  /** An external job's status; null for a job of tasks. */
  status: JobStatus | null = null;
  startTime!: number;
  /** When an external job ended; a job of tasks ends with its last task. */
  endTime: number | null = null;
  lastUpdated!: number;
}

/** A step an outside system added to its external job. */
export class JobStep {
  id!: string;
  jobId!: string;
  number!: number;
  type!: StepType;
  description!: string;
  status!: JobStatus;
  startTime!: number;
  endTime: number | null = null;
}

/** One entry of the audit log: see rules/events.ts and state/event-log.ts. Rows are only inserted and pruned, never changed. */
export class AuditEvent {
  /** Increasing: a later event has a greater id. */
  id!: number;
  time!: number;
  code!: number;
  severity: EventSeverity = 'normal';
  description!: string;
  correlationId: string | null = null;
  /** Who recorded it: `drover`, or the origin an external event names. */
  origin = 'drover';
  customId: number | null = null;
  objectType: EventObjectType | null = null;
  objectId: string | null = null;
  change: ObjectChange | null = null;
  status: string | null = null;
  vmId: string | null = null;
  vmName: string | null = null;
  hostId: string | null = null;
  hostName: string | null = null;
  clusterId: string | null = null;
  dataCenterId: string | null = null;
  storageDomainId: string | null = null;
  templateId: string | null = null;
  userId: string | null = null;
  userName: string | null = null;
}

/** One attempt to move a running VM to another host; see rules/migration.ts. */
export class VmMigration {
  id!: string;
  vmId!: string;
  taskId!: string;
  sourceHostId!: string;
  destinationHostId!: string;
  state!: MigrationState;
  cancelRequested: Opt<boolean> = false;
  dataTotalBytes: Opt<number> = 0;
  dataProcessedBytes: Opt<number> = 0;
  dataRemainingBytes: Opt<number> = 0;
  failure: string | null = null;
  createdAt!: number;
  updatedAt!: number;
  endedAt: number | null = null;
}

export class User {
  id!: string;
  name!: string;
  passwordHash!: string;
  createdAt!: number;
}

/** A group of users of the internal domain; a permission given to a group holds for each of its members. */
export class Group {
  id!: string;
  name!: string;
  createdAt!: number;
}

export class GroupMember {
  groupId!: string;
  userId!: string;
}

/**
 * A role given to a user or a group (exactly one of them) on an object:
 * `objectType` says what kind (see rules/authorization.ts), `objectId` is
 * null for the system.
 */
export class Permission {
  id!: string;
  roleId!: string;
  userId: string | null = null;
  groupId: string | null = null;
  objectType!: string;
  objectId: string | null = null;
  createdAt!: number;
}

/** A tag of oVirt's tag tree: every tag but the root has a parent; names are unique. */
export class Tag {
  id!: string;
  name!: string;
  description = '';
  parentId: string | null = null;
  createdAt!: number;
}

export class AccessToken {
  tokenHash!: string;
  userId!: string;
  createdAt!: number;
  expiresAt!: number;
}

export class HostEnrollmentToken {
  id!: string;
  tokenHash!: string;
  description = '';
  createdBy: string | null = null;
  createdAt!: number;
  expiresAt!: number;
  usedAt: number | null = null;
  hostId: string | null = null;
}

export class HostCertificate {
  serial!: string;
  hostId!: string;
  issuedAt!: number;
  notAfter!: number;
  revokedAt: number | null = null;
}

const epochMs = () => ({ type: new BigIntType('number') });
const bytes = () => ({ type: new BigIntType('number') });

export const DataCenterSchema = new EntitySchema<DataCenter>({
  class: DataCenter,
  tableName: 'data_centers',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', unique: true },
    description: { type: 'text' },
    local: { type: 'boolean' },
    createdAt: epochMs(),
    updatedAt: epochMs(),
  },
});

export const ClusterSchema = new EntitySchema<Cluster>({
  class: Cluster,
  tableName: 'clusters',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', unique: true },
    description: { type: 'text' },
    dataCenterId: { type: 'string', length: 36, index: true },
    cpuArchitecture: { type: 'string' },
    macPoolId: { type: 'string', length: 36 },
    createdAt: epochMs(),
    updatedAt: epochMs(),
  },
});

export const HostSchema = new EntitySchema<Host>({
  class: Host,
  tableName: 'hosts',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', unique: true },
    address: { type: 'string' },
    clusterId: { type: 'string', length: 36, index: true },
    status: { type: 'string' },
    cpuCount: { type: 'integer' },
    cpuModel: { type: 'string' },
    memoryBytes: bytes(),
    libvirtVersion: { type: 'string' },
    hypervisorType: { type: 'string' },
    hypervisorVersion: { type: 'string' },
    domainType: { type: 'string', default: '' },
    statusDetail: { type: 'text', default: '' },
    adminState: { type: 'string', length: 32, default: 'active' },
    libvirtUri: { type: 'string' },
    agentVersion: { type: 'string' },
    migrationUri: { type: 'string', length: 1024, default: '' },
    migrationAddress: { type: 'string', default: '' },
    registeredAt: epochMs(),
    lastSeenAt: epochMs(),
    updatedAt: epochMs(),
  },
});

/** The CPU, machine and firmware settings VMs and templates share; null where the VM leaves them to the host. */
function hardwareColumns() {
  return {
    cpuMode: { type: 'string', length: 32, nullable: true },
    customCpuModel: { type: 'string', length: 64, nullable: true },
    customEmulatedMachine: { type: 'string', length: 64, nullable: true },
    biosType: { type: 'string', length: 32, nullable: true },
  } as const;
}

export const VmSchema = new EntitySchema<Vm>({
  class: Vm,
  tableName: 'vms',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', unique: true },
    description: { type: 'text' },
    memoryBytes: bytes(),
    cpuSockets: { type: 'integer' },
    cpuCores: { type: 'integer' },
    cpuThreads: { type: 'integer' },
    osType: { type: 'string' },
    displayType: { type: 'string' },
    bootDevices: { type: 'string', default: 'hd,cdrom,network' },
    ...hardwareColumns(),
    initialization: { type: 'text', nullable: true },
    highlyAvailable: { type: 'boolean', default: false },
    highAvailabilityPriority: { type: 'integer', default: 0 },
    migrationAffinity: { type: 'string', length: 32, default: 'migratable' },
    clusterId: { type: 'string', length: 36, index: true },
    hostId: { type: 'string', length: 36, nullable: true, index: true },
    powerState: { type: 'string', nullable: true },
    powerStateAt: { ...epochMs(), nullable: true },
    desiredState: { type: 'string' },
    templateId: { type: 'string', length: 36 },
    vmPoolId: { type: 'string', length: 36, nullable: true },
    allocatedTo: { type: 'string', length: 36, nullable: true },
    duplicateHostId: { type: 'string', length: 36, nullable: true },
    createdAt: epochMs(),
    updatedAt: epochMs(),
  },
});

const id = () => ({ type: 'string', primary: true, length: 36 }) as const;
const reference = () => ({ type: 'string', length: 36 }) as const;
const optionalReference = () => ({ type: 'string', length: 36, nullable: true }) as const;
const timestamps = () => ({ createdAt: epochMs(), updatedAt: epochMs() });

export const StorageDomainSchema = new EntitySchema<StorageDomain>({
  class: StorageDomain,
  tableName: 'storage_domains',
  properties: {
    id: id(),
    name: { type: 'string', unique: true },
    description: { type: 'text' },
    storageType: { type: 'string' },
    address: { type: 'string' },
    path: { type: 'string' },
    hostId: optionalReference(),
    dataCenterId: optionalReference(),
    status: { type: 'string' },
    availableBytes: { ...bytes(), nullable: true },
    usedBytes: { ...bytes(), nullable: true },
    reportedAt: { ...epochMs(), nullable: true },
    ...timestamps(),
  },
});

export const DiskSchema = new EntitySchema<Disk>({
  class: Disk,
  tableName: 'disks',
  properties: {
    id: id(),
    name: { type: 'string' },
    description: { type: 'text' },
    storageDomainId: reference(),
    provisionedSize: bytes(),
    actualSize: bytes(),
    format: { type: 'string' },
    sparse: { type: 'boolean' },
    status: { type: 'string' },
    parentDiskId: optionalReference(),
    templateId: optionalReference(),
    ...timestamps(),
  },
});

export const DiskAttachmentSchema = new EntitySchema<DiskAttachment>({
  class: DiskAttachment,
  tableName: 'disk_attachments',
  properties: {
    id: id(),
    diskId: reference(),
    vmId: optionalReference(),
    templateId: optionalReference(),
    diskInterface: { type: 'string' },
    bootable: { type: 'boolean' },
    active: { type: 'boolean' },
    readOnly: { type: 'boolean' },
    createdAt: epochMs(),
  },
});

export const MacPoolSchema = new EntitySchema<MacPool>({
  class: MacPool,
  tableName: 'mac_pools',
  properties: {
    id: id(),
    name: { type: 'string', unique: true },
    description: { type: 'text' },
    allowDuplicates: { type: 'boolean' },
    defaultPool: { type: 'boolean' },
    ranges: { type: 'text' },
    ...timestamps(),
  },
});

export const NetworkSchema = new EntitySchema<Network>({
  class: Network,
  tableName: 'networks',
  properties: {
    id: id(),
    name: { type: 'string' },
    description: { type: 'text' },
    dataCenterId: reference(),
    vlanId: { type: 'integer', nullable: true },
    mtu: { type: 'integer' },
    ...timestamps(),
  },
});

export const VnicProfileSchema = new EntitySchema<VnicProfile>({
  class: VnicProfile,
  tableName: 'vnic_profiles',
  properties: {
    id: id(),
    name: { type: 'string' },
    description: { type: 'text' },
    networkId: reference(),
    portMirroring: { type: 'boolean' },
    ...timestamps(),
  },
});

export const NicSchema = new EntitySchema<Nic>({
  class: Nic,
  tableName: 'nics',
  properties: {
    id: id(),
    name: { type: 'string' },
    vmId: optionalReference(),
    templateId: optionalReference(),
    nicInterface: { type: 'string' },
    mac: { type: 'string' },
    macPoolId: optionalReference(),
    vnicProfileId: optionalReference(),
    linked: { type: 'boolean' },
    plugged: { type: 'boolean' },
    ...timestamps(),
  },
});

export const TemplateSchema = new EntitySchema<Template>({
  class: Template,
  tableName: 'templates',
  properties: {
    id: id(),
    name: { type: 'string', unique: true },
    description: { type: 'text' },
    clusterId: optionalReference(),
    memoryBytes: bytes(),
    cpuSockets: { type: 'integer' },
    cpuCores: { type: 'integer' },
    cpuThreads: { type: 'integer' },
    osType: { type: 'string' },
    displayType: { type: 'string' },
    ...hardwareColumns(),
    status: { type: 'string' },
    sourceVmId: optionalReference(),
    ...timestamps(),
  },
});

export const VmPoolSchema = new EntitySchema<VmPool>({
  class: VmPool,
  tableName: 'vm_pools',
  properties: {
    id: id(),
    name: { type: 'string', unique: true },
    description: { type: 'text' },
    clusterId: reference(),
    templateId: reference(),
    size: { type: 'integer' },
    prestartedVms: { type: 'integer' },
    maxUserVms: { type: 'integer' },
    poolType: { type: 'string' },
    ...timestamps(),
  },
});

export const TaskSchema = new EntitySchema<Task>({
  class: Task,
  tableName: 'tasks',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    seq: { ...epochMs(), unique: true },
    objectType: { type: 'string' },
    objectId: { type: 'string', length: 36 },
    vmId: { type: 'string', length: 36, nullable: true, index: true },
    params: { type: 'text', nullable: true },
    hostId: { type: 'string', length: 36, nullable: true },
    action: { type: 'string' },
    commandKind: { type: 'string', nullable: true },
    state: { type: 'string', index: true },
    correlationId: { type: 'string', nullable: true },
    createdAt: epochMs(),
    startedAt: { ...epochMs(), nullable: true },
    endedAt: { ...epochMs(), nullable: true },
    errorKind: { type: 'string', nullable: true },
    errorReason: { type: 'text', nullable: true },
    errorDetail: { type: 'text', nullable: true },
    description: { type: 'text', nullable: true },
    jobId: { type: 'string', length: 36, nullable: true },
    stepDescription: { type: 'text', nullable: true },
  },
});

export const JobSchema = new EntitySchema<Job>({
  class: Job,
  tableName: 'jobs',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    correlationId: { type: 'string' },
    description: { type: 'text' },
    ownerId: { type: 'string', length: 36, nullable: true },
    external: { type: 'boolean', default: false },
    autoCleared: { type: 'boolean', default: true },
    status: { type: 'string', nullable: true },
    startTime: epochMs(),
    endTime: { ...epochMs(), nullable: true },
    lastUpdated: epochMs(),
  },
});

export const JobStepSchema = new EntitySchema<JobStep>({
  class: JobStep,
  tableName: 'job_steps',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    jobId: { type: 'string', length: 36 },
    number: { type: 'integer' },
    type: { type: 'string' },
    description: { type: 'text' },
    status: { type: 'string' },
    startTime: epochMs(),
    endTime: { ...epochMs(), nullable: true },
  },
});

export const AuditEventSchema = new EntitySchema<AuditEvent>({
  class: AuditEvent,
  tableName: 'events',
  properties: {
    id: { type: new BigIntType('number'), primary: true, autoincrement: false },
    time: epochMs(),
    code: { type: 'integer' },
    severity: { type: 'string' },
    description: { type: 'text' },
    correlationId: { type: 'string', nullable: true },
    origin: { type: 'string' },
    customId: { type: 'integer', nullable: true },
    objectType: { type: 'string', nullable: true },
    objectId: { type: 'string', nullable: true },
    change: { type: 'string', nullable: true },
    status: { type: 'string', nullable: true },
    vmId: { type: 'string', nullable: true },
    vmName: { type: 'string', nullable: true },
    hostId: { type: 'string', nullable: true },
    hostName: { type: 'string', nullable: true },
    clusterId: { type: 'string', nullable: true },
    dataCenterId: { type: 'string', nullable: true },
    storageDomainId: { type: 'string', nullable: true },
    templateId: { type: 'string', nullable: true },
    userId: { type: 'string', nullable: true },
    userName: { type: 'string', nullable: true },
  },
});

export const VmMigrationSchema = new EntitySchema<VmMigration>({
  class: VmMigration,
  tableName: 'vm_migrations',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    vmId: { type: 'string', length: 36 },
    taskId: { type: 'string', length: 36 },
    sourceHostId: { type: 'string', length: 36 },
    destinationHostId: { type: 'string', length: 36 },
    state: { type: 'string' },
    cancelRequested: { type: 'boolean', default: false },
    dataTotalBytes: { ...bytes(), default: 0 },
    dataProcessedBytes: { ...bytes(), default: 0 },
    dataRemainingBytes: { ...bytes(), default: 0 },
    failure: { type: 'text', nullable: true },
    createdAt: epochMs(),
    updatedAt: epochMs(),
    endedAt: { ...epochMs(), nullable: true },
  },
});

export const UserSchema = new EntitySchema<User>({
  class: User,
  tableName: 'users',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', unique: true },
    passwordHash: { type: 'string' },
    createdAt: epochMs(),
  },
});

export const GroupSchema = new EntitySchema<Group>({
  class: Group,
  tableName: 'user_groups',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', unique: true },
    createdAt: epochMs(),
  },
});

export const GroupMemberSchema = new EntitySchema<GroupMember>({
  class: GroupMember,
  tableName: 'group_members',
  properties: {
    groupId: { type: 'string', primary: true, length: 36 },
    userId: { type: 'string', primary: true, length: 36, index: true },
  },
});

export const PermissionSchema = new EntitySchema<Permission>({
  class: Permission,
  tableName: 'permissions',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    roleId: { type: 'string', length: 36 },
    userId: { type: 'string', length: 36, nullable: true, index: true },
    groupId: { type: 'string', length: 36, nullable: true, index: true },
    objectType: { type: 'string', length: 32 },
    objectId: { type: 'string', length: 36, nullable: true, index: true },
    createdAt: epochMs(),
  },
});

export const TagSchema = new EntitySchema<Tag>({
  class: Tag,
  tableName: 'tags',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    name: { type: 'string', unique: true },
    description: { type: 'text' },
    parentId: { type: 'string', length: 36, nullable: true, index: true },
    createdAt: epochMs(),
  },
});

export const AccessTokenSchema = new EntitySchema<AccessToken>({
  class: AccessToken,
  tableName: 'access_tokens',
  properties: {
    tokenHash: { type: 'string', primary: true, length: 64 },
    userId: { type: 'string', length: 36, index: true },
    createdAt: epochMs(),
    expiresAt: epochMs(),
  },
});

export const HostEnrollmentTokenSchema = new EntitySchema<HostEnrollmentToken>({
  class: HostEnrollmentToken,
  tableName: 'host_enrollment_tokens',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    tokenHash: { type: 'string', length: 64, unique: true },
    description: { type: 'text' },
    createdBy: { type: 'string', length: 36, nullable: true },
    createdAt: epochMs(),
    expiresAt: epochMs(),
    usedAt: { ...epochMs(), nullable: true },
    hostId: { type: 'string', length: 36, nullable: true },
  },
});

export const HostCertificateSchema = new EntitySchema<HostCertificate>({
  class: HostCertificate,
  tableName: 'host_certificates',
  properties: {
    serial: { type: 'string', primary: true, length: 40 },
    hostId: { type: 'string', length: 36, index: true },
    issuedAt: epochMs(),
    notAfter: epochMs(),
    revokedAt: { ...epochMs(), nullable: true },
  },
});

export const entitySchemas = [
  JobSchema,
  JobStepSchema,
  DataCenterSchema,
  ClusterSchema,
  HostSchema,
  VmSchema,
  StorageDomainSchema,
  DiskSchema,
  DiskAttachmentSchema,
  MacPoolSchema,
  NetworkSchema,
  VnicProfileSchema,
  NicSchema,
  TemplateSchema,
  VmPoolSchema,
  TaskSchema,
  VmMigrationSchema,
  AuditEventSchema,
  UserSchema,
  GroupSchema,
  GroupMemberSchema,
  PermissionSchema,
  TagSchema,
  AccessTokenSchema,
  HostEnrollmentTokenSchema,
  HostCertificateSchema,
];
