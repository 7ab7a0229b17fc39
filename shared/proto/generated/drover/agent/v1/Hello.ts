// Original file: proto/drover/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface Hello {
  'host_id'?: (string);
  'hostname'?: (string);
  'cpu_count'?: (number);
  'cpu_model'?: (string);
  'memory_bytes'?: (number | string | Long);
  'libvirt_version'?: (string);
  'hypervisor_type'?: (string);
  'hypervisor_version'?: (string);
  'libvirt_uri'?: (string);
  'agent_version'?: (string);
  'cluster'?: (string);
  'domain_type'?: (string);
  'migration_uri'?: (string);
  'migration_address'?: (string);
}

export interface Hello__Output {
  'host_id': (string);
  'hostname': (string);
  'cpu_count': (number);
  'cpu_model': (string);
  'memory_bytes': (number);
  'libvirt_version': (string);
  'hypervisor_type': (string);
  'hypervisor_version': (string);
  'libvirt_uri': (string);
  'agent_version': (string);
  'cluster': (string);
  'domain_type': (string);
  'migration_uri': (string);
  'migration_address': (string);
}
