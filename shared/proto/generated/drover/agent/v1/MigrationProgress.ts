// Original file: proto/drover/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface MigrationProgress {
  'command_id'?: (string);
  'vm_id'?: (string);
  'data_total_bytes'?: (number | string | Long);
  'data_processed_bytes'?: (number | string | Long);
  'data_remaining_bytes'?: (number | string | Long);
  'elapsed_ms'?: (number | string | Long);
}

export interface MigrationProgress__Output {
  'command_id': (string);
  'vm_id': (string);
  'data_total_bytes': (number);
  'data_processed_bytes': (number);
  'data_remaining_bytes': (number);
  'elapsed_ms': (number);
}
