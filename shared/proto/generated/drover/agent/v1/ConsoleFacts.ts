// Original file: proto/drover/agent/v1/agent.proto


export interface ConsoleFacts {
  'protocol'?: (string);
  'address'?: (string);
  'port'?: (number);
  'tls_port'?: (number);
}

export interface ConsoleFacts__Output {
  'protocol': (string);
  'address': (string);
  'port': (number);
  'tls_port': (number);
}
