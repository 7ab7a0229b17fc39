// Original file: proto/drover/agent/v1/agent.proto

import type { CommandKind as _drover_agent_v1_CommandKind, CommandKind__Output as _drover_agent_v1_CommandKind__Output } from '../../../drover/agent/v1/CommandKind';
import type { VmSpec as _drover_agent_v1_VmSpec, VmSpec__Output as _drover_agent_v1_VmSpec__Output } from '../../../drover/agent/v1/VmSpec';
import type { StorageSpec as _drover_agent_v1_StorageSpec, StorageSpec__Output as _drover_agent_v1_StorageSpec__Output } from '../../../drover/agent/v1/StorageSpec';
import type { VolumeSpec as _drover_agent_v1_VolumeSpec, VolumeSpec__Output as _drover_agent_v1_VolumeSpec__Output } from '../../../drover/agent/v1/VolumeSpec';
import type { VolumeRef as _drover_agent_v1_VolumeRef, VolumeRef__Output as _drover_agent_v1_VolumeRef__Output } from '../../../drover/agent/v1/VolumeRef';
import type { ConsoleTicket as _drover_agent_v1_ConsoleTicket, ConsoleTicket__Output as _drover_agent_v1_ConsoleTicket__Output } from '../../../drover/agent/v1/ConsoleTicket';
import type { NetworkSpec as _drover_agent_v1_NetworkSpec, NetworkSpec__Output as _drover_agent_v1_NetworkSpec__Output } from '../../../drover/agent/v1/NetworkSpec';
import type { MigrationSpec as _drover_agent_v1_MigrationSpec, MigrationSpec__Output as _drover_agent_v1_MigrationSpec__Output } from '../../../drover/agent/v1/MigrationSpec';
import type { IsoFile as _drover_agent_v1_IsoFile, IsoFile__Output as _drover_agent_v1_IsoFile__Output } from '../../../drover/agent/v1/IsoFile';

export interface Command {
  'command_id'?: (string);
  'task_id'?: (string);
  'kind'?: (_drover_agent_v1_CommandKind);
  'vm_id'?: (string);
  'spec'?: (_drover_agent_v1_VmSpec | null);
  'storage'?: (_drover_agent_v1_StorageSpec | null);
  'volume'?: (_drover_agent_v1_VolumeSpec | null);
  'volume_ref'?: (_drover_agent_v1_VolumeRef | null);
  'device_id'?: (string);
  'console_ticket'?: (_drover_agent_v1_ConsoleTicket | null);
  'network'?: (_drover_agent_v1_NetworkSpec | null);
  'migration'?: (_drover_agent_v1_MigrationSpec | null);
  'medium'?: (_drover_agent_v1_IsoFile | null);
}

export interface Command__Output {
  'command_id': (string);
  'task_id': (string);
  'kind': (_drover_agent_v1_CommandKind__Output);
  'vm_id': (string);
  'spec': (_drover_agent_v1_VmSpec__Output | null);
  'storage': (_drover_agent_v1_StorageSpec__Output | null);
  'volume': (_drover_agent_v1_VolumeSpec__Output | null);
  'volume_ref': (_drover_agent_v1_VolumeRef__Output | null);
  'device_id': (string);
  'console_ticket': (_drover_agent_v1_ConsoleTicket__Output | null);
  'network': (_drover_agent_v1_NetworkSpec__Output | null);
  'migration': (_drover_agent_v1_MigrationSpec__Output | null);
  'medium': (_drover_agent_v1_IsoFile__Output | null);
}
