import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/agent.js';

const protoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../proto');

export const loaderOptions: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

let cached: ProtoGrpcType | undefined;

export function loadAgentProtocol(): ProtoGrpcType {
  if (!cached) {
    const definition = protoLoader.loadSync('drover/agent/v1/agent.proto', loaderOptions);
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cached;
}

export type { AgentMessage, AgentMessage__Output } from './generated/drover/agent/v1/AgentMessage.js';
export type { ControllerMessage, ControllerMessage__Output } from './generated/drover/agent/v1/ControllerMessage.js';
export type { Command, Command__Output } from './generated/drover/agent/v1/Command.js';
export type { CommandResult, CommandResult__Output } from './generated/drover/agent/v1/CommandResult.js';
export type { DomainState, DomainState__Output } from './generated/drover/agent/v1/DomainState.js';
export type { Hello, Hello__Output } from './generated/drover/agent/v1/Hello.js';
export type { VmSpec as ProtoVmSpec, VmSpec__Output as ProtoVmSpec__Output } from './generated/drover/agent/v1/VmSpec.js';
export type { AgentGatewayClient, AgentGatewayHandlers } from './generated/drover/agent/v1/AgentGateway.js';
