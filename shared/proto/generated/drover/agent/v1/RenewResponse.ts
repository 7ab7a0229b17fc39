// Original file: proto/drover/agent/v1/agent.proto


export interface RenewResponse {
  'certificate_pem'?: (string);
}

export interface RenewResponse__Output {
  'certificate_pem': (string);
}
