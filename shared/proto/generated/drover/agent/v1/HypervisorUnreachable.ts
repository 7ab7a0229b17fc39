// Original file: proto/drover/agent/v1/agent.proto


export interface HypervisorUnreachable {
  'reason'?: (string);
}

export interface HypervisorUnreachable__Output {
  'reason': (string);
}
