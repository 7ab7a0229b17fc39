// Original file: proto/drover/agent/v1/agent.proto

import type { CommandError as _drover_agent_v1_CommandError, CommandError__Output as _drover_agent_v1_CommandError__Output } from '../../../drover/agent/v1/CommandError';
import type { DomainState as _drover_agent_v1_DomainState, DomainState__Output as _drover_agent_v1_DomainState__Output } from '../../../drover/agent/v1/DomainState';

export interface CommandResult {
  'command_id'?: (string);
  'ok'?: (boolean);
  'error'?: (_drover_agent_v1_CommandError);
  'message'?: (string);
  'domain'?: (_drover_agent_v1_DomainState | null);
}

export interface CommandResult__Output {
  'command_id': (string);
  'ok': (boolean);
  'error': (_drover_agent_v1_CommandError__Output);
  'message': (string);
  'domain': (_drover_agent_v1_DomainState__Output | null);
}
