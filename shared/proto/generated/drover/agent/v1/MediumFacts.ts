// Original file: proto/drover/agent/v1/agent.proto


export interface MediumFacts {
  'storage_id'?: (string);
  'name'?: (string);
}

export interface MediumFacts__Output {
  'storage_id': (string);
  'name': (string);
}
