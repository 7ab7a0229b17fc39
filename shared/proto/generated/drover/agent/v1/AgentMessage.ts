// Original file: proto/drover/agent/v1/agent.proto

import type { Hello as _drover_agent_v1_Hello, Hello__Output as _drover_agent_v1_Hello__Output } from '../../../drover/agent/v1/Hello';
import type { Heartbeat as _drover_agent_v1_Heartbeat, Heartbeat__Output as _drover_agent_v1_Heartbeat__Output } from '../../../drover/agent/v1/Heartbeat';
import type { Inventory as _drover_agent_v1_Inventory, Inventory__Output as _drover_agent_v1_Inventory__Output } from '../../../drover/agent/v1/Inventory';
import type { StateChange as _drover_agent_v1_StateChange, StateChange__Output as _drover_agent_v1_StateChange__Output } from '../../../drover/agent/v1/StateChange';
import type { CommandResult as _drover_agent_v1_CommandResult, CommandResult__Output as _drover_agent_v1_CommandResult__Output } from '../../../drover/agent/v1/CommandResult';
import type { StorageReport as _drover_agent_v1_StorageReport, StorageReport__Output as _drover_agent_v1_StorageReport__Output } from '../../../drover/agent/v1/StorageReport';
import type { HypervisorUnreachable as _drover_agent_v1_HypervisorUnreachable, HypervisorUnreachable__Output as _drover_agent_v1_HypervisorUnreachable__Output } from '../../../drover/agent/v1/HypervisorUnreachable';
import type { MigrationProgress as _drover_agent_v1_MigrationProgress, MigrationProgress__Output as _drover_agent_v1_MigrationProgress__Output } from '../../../drover/agent/v1/MigrationProgress';

export interface AgentMessage {
  'hello'?: (_drover_agent_v1_Hello | null);
  'heartbeat'?: (_drover_agent_v1_Heartbeat | null);
  'inventory'?: (_drover_agent_v1_Inventory | null);
  'state_change'?: (_drover_agent_v1_StateChange | null);
  'command_result'?: (_drover_agent_v1_CommandResult | null);
  'storage_report'?: (_drover_agent_v1_StorageReport | null);
  'hypervisor_unreachable'?: (_drover_agent_v1_HypervisorUnreachable | null);
  'migration_progress'?: (_drover_agent_v1_MigrationProgress | null);
  'body'?: "hello"|"heartbeat"|"inventory"|"state_change"|"command_result"|"storage_report"|"hypervisor_unreachable"|"migration_progress";
}

export interface AgentMessage__Output {
  'hello'?: (_drover_agent_v1_Hello__Output | null);
  'heartbeat'?: (_drover_agent_v1_Heartbeat__Output | null);
  'inventory'?: (_drover_agent_v1_Inventory__Output | null);
  'state_change'?: (_drover_agent_v1_StateChange__Output | null);
  'command_result'?: (_drover_agent_v1_CommandResult__Output | null);
  'storage_report'?: (_drover_agent_v1_StorageReport__Output | null);
  'hypervisor_unreachable'?: (_drover_agent_v1_HypervisorUnreachable__Output | null);
  'migration_progress'?: (_drover_agent_v1_MigrationProgress__Output | null);
  'body'?: "hello"|"heartbeat"|"inventory"|"state_change"|"command_result"|"storage_report"|"hypervisor_unreachable"|"migration_progress";
}
