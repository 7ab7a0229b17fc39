// Original file: proto/drover/agent/v1/agent.proto

import type { CommandError as _drover_agent_v1_CommandError, CommandError__Output as _drover_agent_v1_CommandError__Output } from '../../../drover/agent/v1/CommandError';
import type { DomainState as _drover_agent_v1_DomainState, DomainState__Output as _drover_agent_v1_DomainState__Output } from '../../../drover/agent/v1/DomainState';
import type { VolumeFacts as _drover_agent_v1_VolumeFacts, VolumeFacts__Output as _drover_agent_v1_VolumeFacts__Output } from '../../../drover/agent/v1/VolumeFacts';
import type { StorageUsage as _drover_agent_v1_StorageUsage, StorageUsage__Output as _drover_agent_v1_StorageUsage__Output } from '../../../drover/agent/v1/StorageUsage';

export interface CommandResult {
  'command_id'?: (string);
  'ok'?: (boolean);
  'error'?: (_drover_agent_v1_CommandError);
  'message'?: (string);
  'domain'?: (_drover_agent_v1_DomainState | null);
  'volume'?: (_drover_agent_v1_VolumeFacts | null);
  'storage'?: (_drover_agent_v1_StorageUsage | null);
  'domain_unknown'?: (boolean);
}

export interface CommandResult__Output {
  'command_id': (string);
  'ok': (boolean);
  'error': (_drover_agent_v1_CommandError__Output);
  'message': (string);
  'domain': (_drover_agent_v1_DomainState__Output | null);
  'volume': (_drover_agent_v1_VolumeFacts__Output | null);
  'storage': (_drover_agent_v1_StorageUsage__Output | null);
  'domain_unknown': (boolean);
}
