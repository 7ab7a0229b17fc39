// Original file: proto/drover/agent/v1/agent.proto

export const CommandError = {
  COMMAND_ERROR_UNSPECIFIED: 'COMMAND_ERROR_UNSPECIFIED',
  INVALID_STATE: 'INVALID_STATE',
  DOMAIN_NOT_FOUND: 'DOMAIN_NOT_FOUND',
  INVALID_COMMAND: 'INVALID_COMMAND',
  HYPERVISOR_FAILURE: 'HYPERVISOR_FAILURE',
  TIMED_OUT: 'TIMED_OUT',
  NOT_SUPPORTED: 'NOT_SUPPORTED',
  STORAGE_UNREACHABLE: 'STORAGE_UNREACHABLE',
  NO_SPACE: 'NO_SPACE',
  IN_USE: 'IN_USE',
} as const;

export type CommandError =
  | 'COMMAND_ERROR_UNSPECIFIED'
  | 0
  | 'INVALID_STATE'
  | 1
  | 'DOMAIN_NOT_FOUND'
  | 2
  | 'INVALID_COMMAND'
  | 3
  | 'HYPERVISOR_FAILURE'
  | 4
  | 'TIMED_OUT'
  | 5
  | 'NOT_SUPPORTED'
  | 6
  | 'STORAGE_UNREACHABLE'
  | 7
  | 'NO_SPACE'
  | 8
  | 'IN_USE'
  | 9

export type CommandError__Output = typeof CommandError[keyof typeof CommandError]
