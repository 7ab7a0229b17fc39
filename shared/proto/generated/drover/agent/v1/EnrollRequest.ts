// Original file: proto/drover/agent/v1/agent.proto


export interface EnrollRequest {
  'token'?: (string);
  'certificate_request_pem'?: (string);
}

export interface EnrollRequest__Output {
  'token': (string);
  'certificate_request_pem': (string);
}
