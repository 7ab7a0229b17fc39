// Original file: proto/drover/agent/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentMessage as _drover_agent_v1_AgentMessage, AgentMessage__Output as _drover_agent_v1_AgentMessage__Output } from '../../../drover/agent/v1/AgentMessage';
import type { ControllerMessage as _drover_agent_v1_ControllerMessage, ControllerMessage__Output as _drover_agent_v1_ControllerMessage__Output } from '../../../drover/agent/v1/ControllerMessage';

export interface AgentGatewayClient extends grpc.Client {
  Session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_drover_agent_v1_AgentMessage, _drover_agent_v1_ControllerMessage__Output>;
  Session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_drover_agent_v1_AgentMessage, _drover_agent_v1_ControllerMessage__Output>;
  session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_drover_agent_v1_AgentMessage, _drover_agent_v1_ControllerMessage__Output>;
  session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_drover_agent_v1_AgentMessage, _drover_agent_v1_ControllerMessage__Output>;
  
}

export interface AgentGatewayHandlers extends grpc.UntypedServiceImplementation {
  Session: grpc.handleBidiStreamingCall<_drover_agent_v1_AgentMessage__Output, _drover_agent_v1_ControllerMessage>;
  
}

export interface AgentGatewayDefinition extends grpc.ServiceDefinition {
  Session: MethodDefinition<_drover_agent_v1_AgentMessage, _drover_agent_v1_ControllerMessage, _drover_agent_v1_AgentMessage__Output, _drover_agent_v1_ControllerMessage__Output>
}
