// Original file: proto/drover/agent/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentMessage as _drover_agent_v1_AgentMessage, AgentMessage__Output as _drover_agent_v1_AgentMessage__Output } from '../../../drover/agent/v1/AgentMessage';
import type { CaCertificateRequest as _drover_agent_v1_CaCertificateRequest, CaCertificateRequest__Output as _drover_agent_v1_CaCertificateRequest__Output } from '../../../drover/agent/v1/CaCertificateRequest';
import type { CaCertificateResponse as _drover_agent_v1_CaCertificateResponse, CaCertificateResponse__Output as _drover_agent_v1_CaCertificateResponse__Output } from '../../../drover/agent/v1/CaCertificateResponse';
import type { ControllerMessage as _drover_agent_v1_ControllerMessage, ControllerMessage__Output as _drover_agent_v1_ControllerMessage__Output } from '../../../drover/agent/v1/ControllerMessage';
import type { EnrollRequest as _drover_agent_v1_EnrollRequest, EnrollRequest__Output as _drover_agent_v1_EnrollRequest__Output } from '../../../drover/agent/v1/EnrollRequest';
import type { EnrollResponse as _drover_agent_v1_EnrollResponse, EnrollResponse__Output as _drover_agent_v1_EnrollResponse__Output } from '../../../drover/agent/v1/EnrollResponse';
import type { RenewRequest as _drover_agent_v1_RenewRequest, RenewRequest__Output as _drover_agent_v1_RenewRequest__Output } from '../../../drover/agent/v1/RenewRequest';
import type { RenewResponse as _drover_agent_v1_RenewResponse, RenewResponse__Output as _drover_agent_v1_RenewResponse__Output } from '../../../drover/agent/v1/RenewResponse';

export interface AgentGatewayClient extends grpc.Client {
  CaCertificate(argument: _drover_agent_v1_CaCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_CaCertificateResponse__Output>): grpc.ClientUnaryCall;
  CaCertificate(argument: _drover_agent_v1_CaCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_drover_agent_v1_CaCertificateResponse__Output>): grpc.ClientUnaryCall;
  CaCertificate(argument: _drover_agent_v1_CaCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_CaCertificateResponse__Output>): grpc.ClientUnaryCall;
  CaCertificate(argument: _drover_agent_v1_CaCertificateRequest, callback: grpc.requestCallback<_drover_agent_v1_CaCertificateResponse__Output>): grpc.ClientUnaryCall;
  caCertificate(argument: _drover_agent_v1_CaCertificateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_CaCertificateResponse__Output>): grpc.ClientUnaryCall;
  caCertificate(argument: _drover_agent_v1_CaCertificateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_drover_agent_v1_CaCertificateResponse__Output>): grpc.ClientUnaryCall;
  caCertificate(argument: _drover_agent_v1_CaCertificateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_CaCertificateResponse__Output>): grpc.ClientUnaryCall;
  caCertificate(argument: _drover_agent_v1_CaCertificateRequest, callback: grpc.requestCallback<_drover_agent_v1_CaCertificateResponse__Output>): grpc.ClientUnaryCall;
  
  Enroll(argument: _drover_agent_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _drover_agent_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_drover_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _drover_agent_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _drover_agent_v1_EnrollRequest, callback: grpc.requestCallback<_drover_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _drover_agent_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _drover_agent_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_drover_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _drover_agent_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _drover_agent_v1_EnrollRequest, callback: grpc.requestCallback<_drover_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  
  Renew(argument: _drover_agent_v1_RenewRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_RenewResponse__Output>): grpc.ClientUnaryCall;
  Renew(argument: _drover_agent_v1_RenewRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_drover_agent_v1_RenewResponse__Output>): grpc.ClientUnaryCall;
  Renew(argument: _drover_agent_v1_RenewRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_RenewResponse__Output>): grpc.ClientUnaryCall;
  Renew(argument: _drover_agent_v1_RenewRequest, callback: grpc.requestCallback<_drover_agent_v1_RenewResponse__Output>): grpc.ClientUnaryCall;
  renew(argument: _drover_agent_v1_RenewRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_RenewResponse__Output>): grpc.ClientUnaryCall;
  renew(argument: _drover_agent_v1_RenewRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_drover_agent_v1_RenewResponse__Output>): grpc.ClientUnaryCall;
  renew(argument: _drover_agent_v1_RenewRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_drover_agent_v1_RenewResponse__Output>): grpc.ClientUnaryCall;
  renew(argument: _drover_agent_v1_RenewRequest, callback: grpc.requestCallback<_drover_agent_v1_RenewResponse__Output>): grpc.ClientUnaryCall;
  
  Session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_drover_agent_v1_AgentMessage, _drover_agent_v1_ControllerMessage__Output>;
  Session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_drover_agent_v1_AgentMessage, _drover_agent_v1_ControllerMessage__Output>;
  session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_drover_agent_v1_AgentMessage, _drover_agent_v1_ControllerMessage__Output>;
  session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_drover_agent_v1_AgentMessage, _drover_agent_v1_ControllerMessage__Output>;
  
}

export interface AgentGatewayHandlers extends grpc.UntypedServiceImplementation {
  CaCertificate: grpc.handleUnaryCall<_drover_agent_v1_CaCertificateRequest__Output, _drover_agent_v1_CaCertificateResponse>;
  
  Enroll: grpc.handleUnaryCall<_drover_agent_v1_EnrollRequest__Output, _drover_agent_v1_EnrollResponse>;
  
  Renew: grpc.handleUnaryCall<_drover_agent_v1_RenewRequest__Output, _drover_agent_v1_RenewResponse>;
  
  Session: grpc.handleBidiStreamingCall<_drover_agent_v1_AgentMessage__Output, _drover_agent_v1_ControllerMessage>;
  
}

export interface AgentGatewayDefinition extends grpc.ServiceDefinition {
  CaCertificate: MethodDefinition<_drover_agent_v1_CaCertificateRequest, _drover_agent_v1_CaCertificateResponse, _drover_agent_v1_CaCertificateRequest__Output, _drover_agent_v1_CaCertificateResponse__Output>
  Enroll: MethodDefinition<_drover_agent_v1_EnrollRequest, _drover_agent_v1_EnrollResponse, _drover_agent_v1_EnrollRequest__Output, _drover_agent_v1_EnrollResponse__Output>
  Renew: MethodDefinition<_drover_agent_v1_RenewRequest, _drover_agent_v1_RenewResponse, _drover_agent_v1_RenewRequest__Output, _drover_agent_v1_RenewResponse__Output>
  Session: MethodDefinition<_drover_agent_v1_AgentMessage, _drover_agent_v1_ControllerMessage, _drover_agent_v1_AgentMessage__Output, _drover_agent_v1_ControllerMessage__Output>
}
