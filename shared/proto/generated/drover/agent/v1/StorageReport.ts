// Original file: proto/drover/agent/v1/agent.proto

import type { StorageUsage as _drover_agent_v1_StorageUsage, StorageUsage__Output as _drover_agent_v1_StorageUsage__Output } from '../../../drover/agent/v1/StorageUsage';

export interface StorageReport {
  'usage'?: (_drover_agent_v1_StorageUsage)[];
}

export interface StorageReport__Output {
  'usage': (_drover_agent_v1_StorageUsage__Output)[];
}
