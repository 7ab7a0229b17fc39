// Original file: proto/drover/agent/v1/agent.proto

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
}
