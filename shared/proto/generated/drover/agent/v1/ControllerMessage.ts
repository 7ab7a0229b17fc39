// Original file: proto/drover/agent/v1/agent.proto

import type { Welcome as _drover_agent_v1_Welcome, Welcome__Output as _drover_agent_v1_Welcome__Output } from '../../../drover/agent/v1/Welcome';
import type { Command as _drover_agent_v1_Command, Command__Output as _drover_agent_v1_Command__Output } from '../../../drover/agent/v1/Command';

export interface ControllerMessage {
  'welcome'?: (_drover_agent_v1_Welcome | null);
  'command'?: (_drover_agent_v1_Command | null);
  'body'?: "welcome"|"command";
}

export interface ControllerMessage__Output {
  'welcome'?: (_drover_agent_v1_Welcome__Output | null);
  'command'?: (_drover_agent_v1_Command__Output | null);
  'body'?: "welcome"|"command";
}
