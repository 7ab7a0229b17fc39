// Original file: proto/drover/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface RebootFacts {
  'reset'?: (boolean);
  'waited_ms'?: (number | string | Long);
}

export interface RebootFacts__Output {
  'reset': (boolean);
  'waited_ms': (number);
}
