// Original file: proto/drover/agent/v1/agent.proto


export interface ConsoleTicket {
  'password'?: (string);
  'valid_seconds'?: (number);
  'protocol'?: (string);
}

export interface ConsoleTicket__Output {
  'password': (string);
  'valid_seconds': (number);
  'protocol': (string);
}
