// Original file: proto/drover/agent/v1/agent.proto

import type { StorageSpec as _drover_agent_v1_StorageSpec, StorageSpec__Output as _drover_agent_v1_StorageSpec__Output } from '../../../drover/agent/v1/StorageSpec';

export interface IsoFile {
  'storage'?: (_drover_agent_v1_StorageSpec | null);
  'name'?: (string);
}

export interface IsoFile__Output {
  'storage': (_drover_agent_v1_StorageSpec__Output | null);
  'name': (string);
}
