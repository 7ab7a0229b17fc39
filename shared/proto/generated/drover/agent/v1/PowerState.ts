// Original file: proto/drover/agent/v1/agent.proto

export const PowerState = {
  POWER_STATE_UNSPECIFIED: 'POWER_STATE_UNSPECIFIED',
  RUNNING: 'RUNNING',
  PAUSED: 'PAUSED',
  SHUTOFF: 'SHUTOFF',
  SUSPENDED: 'SUSPENDED',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  CRASHED: 'CRASHED',
  PM_SUSPENDED: 'PM_SUSPENDED',
} as const;

export type PowerState =
  | 'POWER_STATE_UNSPECIFIED'
  | 0
  | 'RUNNING'
  | 1
  | 'PAUSED'
  | 2
  | 'SHUTOFF'
  | 3
  | 'SUSPENDED'
  | 4
  | 'SHUTTING_DOWN'
  | 5
  | 'CRASHED'
  | 6
  | 'PM_SUSPENDED'
  | 7

export type PowerState__Output = typeof PowerState[keyof typeof PowerState]
