// Original file: proto/drover/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface MigrationSpec {
  'migration_id'?: (string);
  'destination_uri'?: (string);
  'destination_address'?: (string);
  'stall_timeout_ms'?: (number | string | Long);
  'deadline_ms'?: (number | string | Long);
  'shared_storage'?: (boolean);
  'bandwidth_mib_per_second'?: (number);
}

export interface MigrationSpec__Output {
  'migration_id': (string);
  'destination_uri': (string);
  'destination_address': (string);
  'stall_timeout_ms': (number);
  'deadline_ms': (number);
  'shared_storage': (boolean);
  'bandwidth_mib_per_second': (number);
}
