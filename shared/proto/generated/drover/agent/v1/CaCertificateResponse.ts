// Original file: proto/drover/agent/v1/agent.proto


export interface CaCertificateResponse {
  'certificate_pem'?: (string);
}

export interface CaCertificateResponse__Output {
  'certificate_pem': (string);
}
