// Original file: proto/drover/agent/v1/agent.proto


export interface EnrollResponse {
  'host_id'?: (string);
  'certificate_pem'?: (string);
  'ca_certificate_pem'?: (string);
}

export interface EnrollResponse__Output {
  'host_id': (string);
  'certificate_pem': (string);
  'ca_certificate_pem': (string);
}
