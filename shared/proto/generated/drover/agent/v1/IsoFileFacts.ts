// Original file: proto/drover/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface IsoFileFacts {
  'name'?: (string);
  'size_bytes'?: (number | string | Long);
}

export interface IsoFileFacts__Output {
  'name': (string);
  'size_bytes': (number);
}
