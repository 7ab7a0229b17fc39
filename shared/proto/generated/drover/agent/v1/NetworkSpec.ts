// Original file: proto/drover/agent/v1/agent.proto


export interface NetworkSpec {
  'id'?: (string);
  'name'?: (string);
  'vlan_id'?: (number);
  'has_vlan'?: (boolean);
  'mtu'?: (number);
}

export interface NetworkSpec__Output {
  'id': (string);
  'name': (string);
  'vlan_id': (number);
  'has_vlan': (boolean);
  'mtu': (number);
}
