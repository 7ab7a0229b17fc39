// Original file: proto/drover/agent/v1/agent.proto


export interface CaCertificateRequest {
}

export interface CaCertificateRequest__Output {
}
