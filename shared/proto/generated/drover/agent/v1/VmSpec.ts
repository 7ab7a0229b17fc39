// Original file: proto/drover/agent/v1/agent.proto

import type { DiskDevice as _drover_agent_v1_DiskDevice, DiskDevice__Output as _drover_agent_v1_DiskDevice__Output } from '../../../drover/agent/v1/DiskDevice';
import type { NicDevice as _drover_agent_v1_NicDevice, NicDevice__Output as _drover_agent_v1_NicDevice__Output } from '../../../drover/agent/v1/NicDevice';
import type { CloudInit as _drover_agent_v1_CloudInit, CloudInit__Output as _drover_agent_v1_CloudInit__Output } from '../../../drover/agent/v1/CloudInit';
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
  'cpu_mode'?: (string);
  'custom_cpu_model'?: (string);
  'machine'?: (string);
  'bios_type'?: (string);
  'cloud_init'?: (_drover_agent_v1_CloudInit | null);
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
  'cpu_mode': (string);
  'custom_cpu_model': (string);
  'machine': (string);
  'bios_type': (string);
  'cloud_init': (_drover_agent_v1_CloudInit__Output | null);
  'cdrom': (_drover_agent_v1_IsoFile__Output | null);
  'boot_devices': (string)[];
}
