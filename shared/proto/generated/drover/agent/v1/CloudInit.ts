// Original file: proto/drover/agent/v1/agent.proto


export interface CloudInit {
  'host_name'?: (string);
  'user_name'?: (string);
  'root_password'?: (string);
  'authorized_ssh_keys'?: (string)[];
  'regenerate_ssh_keys'?: (boolean);
  'timezone'?: (string);
  'dns_servers'?: (string)[];
  'dns_search'?: (string)[];
  'custom_script'?: (string);
}

export interface CloudInit__Output {
  'host_name': (string);
  'user_name': (string);
  'root_password': (string);
  'authorized_ssh_keys': (string)[];
  'regenerate_ssh_keys': (boolean);
  'timezone': (string);
  'dns_servers': (string)[];
  'dns_search': (string)[];
  'custom_script': (string);
}
