// Original file: proto/drover/agent/v1/agent.proto


export interface Welcome {
  'heartbeat_interval_ms'?: (number);
}

export interface Welcome__Output {
  'heartbeat_interval_ms': (number);
}
