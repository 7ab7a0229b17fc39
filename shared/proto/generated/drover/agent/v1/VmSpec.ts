// Original file: proto/drover/agent/v1/agent.proto

import type { DiskDevice as _drover_agent_v1_DiskDevice, DiskDevice__Output as _drover_agent_v1_DiskDevice__Output } from '../../../drover/agent/v1/DiskDevice';
import type { NicDevice as _drover_agent_v1_NicDevice, NicDevice__Output as _drover_agent_v1_NicDevice__Output } from '../../../drover/agent/v1/NicDevice';
import type { IsoFile as _drover_agent_v1_IsoFile, IsoFile__Output as _drover_agent_v1_IsoFile__Output } from '../../../drover/agent/v1/IsoFile';
import type { Long } from '@grpc/proto-loader';

export interface VmSpec {
  'id'?: (string);
  'name'?: (string);
  'description'?: (string);
  'memory_bytes'?: (number | string | Long);
  'cpu_sockets'?: (number);
  'cpu_cores'?: (number);
  'cpu_threads'?: (number);
  'os_type'?: (string);
  'display_type'?: (string);
  'cluster_id'?: (string);
  'disks'?: (_drover_agent_v1_DiskDevice)[];
  'nics'?: (_drover_agent_v1_NicDevice)[];
  'cdrom'?: (_drover_agent_v1_IsoFile | null);
  'boot_devices'?: (string)[];
}

export interface VmSpec__Output {
  'id': (string);
  'name': (string);
  'description': (string);
  'memory_bytes': (number);
  'cpu_sockets': (number);
  'cpu_cores': (number);
  'cpu_threads': (number);
  'os_type': (string);
  'display_type': (string);
  'cluster_id': (string);
  'disks': (_drover_agent_v1_DiskDevice__Output)[];
  'nics': (_drover_agent_v1_NicDevice__Output)[];
  'cdrom': (_drover_agent_v1_IsoFile__Output | null);
  'boot_devices': (string)[];
}
