// Original file: proto/drover/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface Heartbeat {
  'sequence'?: (number | string | Long);
}

export interface Heartbeat__Output {
  'sequence': (number);
}
