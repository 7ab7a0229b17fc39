// Original file: proto/drover/agent/v1/agent.proto

import type { NetworkSpec as _drover_agent_v1_NetworkSpec, NetworkSpec__Output as _drover_agent_v1_NetworkSpec__Output } from '../../../drover/agent/v1/NetworkSpec';

export interface NicDevice {
  'nic_id'?: (string);
  'name'?: (string);
  'mac'?: (string);
  'model'?: (string);
  'network'?: (_drover_agent_v1_NetworkSpec | null);
  'linked'?: (boolean);
}

export interface NicDevice__Output {
  'nic_id': (string);
  'name': (string);
  'mac': (string);
  'model': (string);
  'network': (_drover_agent_v1_NetworkSpec__Output | null);
  'linked': (boolean);
}
