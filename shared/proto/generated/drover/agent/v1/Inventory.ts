// Original file: proto/drover/agent/v1/agent.proto

import type { DomainState as _drover_agent_v1_DomainState, DomainState__Output as _drover_agent_v1_DomainState__Output } from '../../../drover/agent/v1/DomainState';

export interface Inventory {
  'domains'?: (_drover_agent_v1_DomainState)[];
}

export interface Inventory__Output {
  'domains': (_drover_agent_v1_DomainState__Output)[];
}
