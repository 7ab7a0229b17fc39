// Original file: proto/drover/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface StorageUsage {
  'storage_id'?: (string);
  'available_bytes'?: (number | string | Long);
  'used_bytes'?: (number | string | Long);
}

export interface StorageUsage__Output {
  'storage_id': (string);
  'available_bytes': (number);
  'used_bytes': (number);
}
