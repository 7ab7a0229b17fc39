// Original file: proto/drover/agent/v1/agent.proto


export interface RenewRequest {
  'certificate_request_pem'?: (string);
}

export interface RenewRequest__Output {
  'certificate_request_pem': (string);
}
