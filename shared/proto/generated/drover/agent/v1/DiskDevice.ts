// Original file: proto/drover/agent/v1/agent.proto

import type { VolumeRef as _drover_agent_v1_VolumeRef, VolumeRef__Output as _drover_agent_v1_VolumeRef__Output } from '../../../drover/agent/v1/VolumeRef';

export interface DiskDevice {
  'disk_id'?: (string);
  'volume'?: (_drover_agent_v1_VolumeRef | null);
  'bus'?: (string);
  'bootable'?: (boolean);
  'read_only'?: (boolean);
}

export interface DiskDevice__Output {
  'disk_id': (string);
  'volume': (_drover_agent_v1_VolumeRef__Output | null);
  'bus': (string);
  'bootable': (boolean);
  'read_only': (boolean);
}
