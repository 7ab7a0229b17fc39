// Original file: proto/drover/agent/v1/agent.proto

import type { VolumeRef as _drover_agent_v1_VolumeRef, VolumeRef__Output as _drover_agent_v1_VolumeRef__Output } from '../../../drover/agent/v1/VolumeRef';
import type { Long } from '@grpc/proto-loader';

export interface VolumeSpec {
  'volume'?: (_drover_agent_v1_VolumeRef | null);
  'capacity_bytes'?: (number | string | Long);
  'sparse'?: (boolean);
  'backing'?: (_drover_agent_v1_VolumeRef | null);
  'copy_of'?: (_drover_agent_v1_VolumeRef | null);
}

export interface VolumeSpec__Output {
  'volume': (_drover_agent_v1_VolumeRef__Output | null);
  'capacity_bytes': (number);
  'sparse': (boolean);
  'backing': (_drover_agent_v1_VolumeRef__Output | null);
  'copy_of': (_drover_agent_v1_VolumeRef__Output | null);
}
