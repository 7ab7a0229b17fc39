// Original file: proto/drover/agent/v1/agent.proto

export const CommandKind = {
  COMMAND_KIND_UNSPECIFIED: 'COMMAND_KIND_UNSPECIFIED',
  DEFINE: 'DEFINE',
  START: 'START',
  SHUTDOWN: 'SHUTDOWN',
  DESTROY: 'DESTROY',
  SUSPEND: 'SUSPEND',
  RESUME: 'RESUME',
  REBOOT: 'REBOOT',
  UNDEFINE: 'UNDEFINE',
  PREPARE_STORAGE: 'PREPARE_STORAGE',
  RELEASE_STORAGE: 'RELEASE_STORAGE',
  CREATE_VOLUME: 'CREATE_VOLUME',
  DELETE_VOLUME: 'DELETE_VOLUME',
  PLUG_DEVICE: 'PLUG_DEVICE',
  UNPLUG_DEVICE: 'UNPLUG_DEVICE',
  CHECK_VOLUME_UNUSED: 'CHECK_VOLUME_UNUSED',
} as const;

export type CommandKind =
  | 'COMMAND_KIND_UNSPECIFIED'
  | 0
  | 'DEFINE'
  | 1
  | 'START'
  | 2
  | 'SHUTDOWN'
  | 3
  | 'DESTROY'
  | 4
  | 'SUSPEND'
  | 5
  | 'RESUME'
  | 6
  | 'REBOOT'
  | 7
  | 'UNDEFINE'
  | 8
  | 'PREPARE_STORAGE'
  | 10
  | 'RELEASE_STORAGE'
  | 11
  | 'CREATE_VOLUME'
  | 12
  | 'DELETE_VOLUME'
  | 13
  | 'PLUG_DEVICE'
  | 14
  | 'UNPLUG_DEVICE'
  | 15
  | 'CHECK_VOLUME_UNUSED'
  | 16

export type CommandKind__Output = typeof CommandKind[keyof typeof CommandKind]
