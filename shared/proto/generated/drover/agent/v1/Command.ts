// Original file: proto/drover/agent/v1/agent.proto

import type { CommandKind as _drover_agent_v1_CommandKind, CommandKind__Output as _drover_agent_v1_CommandKind__Output } from '../../../drover/agent/v1/CommandKind';
import type { VmSpec as _drover_agent_v1_VmSpec, VmSpec__Output as _drover_agent_v1_VmSpec__Output } from '../../../drover/agent/v1/VmSpec';

export interface Command {
  'command_id'?: (string);
  'task_id'?: (string);
  'kind'?: (_drover_agent_v1_CommandKind);
  'vm_id'?: (string);
  'spec'?: (_drover_agent_v1_VmSpec | null);
}

export interface Command__Output {
  'command_id': (string);
  'task_id': (string);
  'kind': (_drover_agent_v1_CommandKind__Output);
  'vm_id': (string);
  'spec': (_drover_agent_v1_VmSpec__Output | null);
}
