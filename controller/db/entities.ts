import { BigIntType, EntitySchema } from '@mikro-orm/core';
import type { CommandKind, DisplayType, PowerState } from '../../shared/model.js';

export type HostStatus = 'up' | 'non_responsive';
export type TaskState = 'queued' | 'running' | 'finished' | 'failed' | 'cancelled';
export type DesiredState = 'up' | 'down' | 'suspended' | 'paused';

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
  createdAt!: number;
  updatedAt!: number;
}

export class Host {
  id!: string;
  name!: string;
  address = '';
  clusterId!: string;
  status: HostStatus = 'up';
  cpuCount = 0;
  cpuModel = '';
  memoryBytes = 0;
  libvirtVersion = '';
  hypervisorType = '';
  hypervisorVersion = '';
  libvirtUri = '';
  agentVersion = '';
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
  clusterId!: string;
  hostId: string | null = null;
  powerState: PowerState | null = null;
  powerStateAt: number | null = null;
  desiredState: DesiredState = 'down';
  createdAt!: number;
  updatedAt!: number;
}

export class Task {
  id!: string;
  seq!: number;
  vmId: string | null = null;
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
}

export class User {
  id!: string;
  name!: string;
  passwordHash!: string;
  createdAt!: number;
}

export class AccessToken {
  tokenHash!: string;
  userId!: string;
  createdAt!: number;
  expiresAt!: number;
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
    libvirtUri: { type: 'string' },
    agentVersion: { type: 'string' },
    registeredAt: epochMs(),
    lastSeenAt: epochMs(),
    updatedAt: epochMs(),
  },
});

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
    clusterId: { type: 'string', length: 36, index: true },
    hostId: { type: 'string', length: 36, nullable: true, index: true },
    powerState: { type: 'string', nullable: true },
    powerStateAt: { ...epochMs(), nullable: true },
    desiredState: { type: 'string' },
    createdAt: epochMs(),
    updatedAt: epochMs(),
  },
});

export const TaskSchema = new EntitySchema<Task>({
  class: Task,
  tableName: 'tasks',
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    seq: { ...epochMs(), unique: true },
    vmId: { type: 'string', length: 36, nullable: true, index: true },
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

export const entitySchemas = [DataCenterSchema, ClusterSchema, HostSchema, VmSchema, TaskSchema, UserSchema, AccessTokenSchema];
