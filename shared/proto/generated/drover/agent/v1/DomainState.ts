// Original file: proto/drover/agent/v1/agent.proto

import type { PowerState as _drover_agent_v1_PowerState, PowerState__Output as _drover_agent_v1_PowerState__Output } from '../../../drover/agent/v1/PowerState';

export interface DomainState {
  'uuid'?: (string);
  'name'?: (string);
  'state'?: (_drover_agent_v1_PowerState);
  'managed'?: (boolean);
}

export interface DomainState__Output {
  'uuid': (string);
  'name': (string);
  'state': (_drover_agent_v1_PowerState__Output);
  'managed': (boolean);
}
