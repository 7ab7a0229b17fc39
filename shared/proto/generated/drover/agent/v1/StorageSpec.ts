// Original file: proto/drover/agent/v1/agent.proto


export interface StorageSpec {
  'id'?: (string);
  'kind'?: (string);
  'address'?: (string);
  'path'?: (string);
}

export interface StorageSpec__Output {
  'id': (string);
  'kind': (string);
  'address': (string);
  'path': (string);
}
