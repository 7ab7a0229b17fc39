// Original file: proto/drover/agent/v1/agent.proto

import type { DomainState as _drover_agent_v1_DomainState, DomainState__Output as _drover_agent_v1_DomainState__Output } from '../../../drover/agent/v1/DomainState';

export interface StateChange {
  'domain'?: (_drover_agent_v1_DomainState | null);
  'removed'?: (boolean);
}

export interface StateChange__Output {
  'domain': (_drover_agent_v1_DomainState__Output | null);
  'removed': (boolean);
}
