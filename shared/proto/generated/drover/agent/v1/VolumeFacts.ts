// Original file: proto/drover/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface VolumeFacts {
  'path'?: (string);
  'actual_size_bytes'?: (number | string | Long);
}

export interface VolumeFacts__Output {
  'path': (string);
  'actual_size_bytes': (number);
}
