import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentGatewayClient as _drover_agent_v1_AgentGatewayClient, AgentGatewayDefinition as _drover_agent_v1_AgentGatewayDefinition } from './drover/agent/v1/AgentGateway';
import type { AgentMessage as _drover_agent_v1_AgentMessage, AgentMessage__Output as _drover_agent_v1_AgentMessage__Output } from './drover/agent/v1/AgentMessage';
import type { CaCertificateRequest as _drover_agent_v1_CaCertificateRequest, CaCertificateRequest__Output as _drover_agent_v1_CaCertificateRequest__Output } from './drover/agent/v1/CaCertificateRequest';
import type { CaCertificateResponse as _drover_agent_v1_CaCertificateResponse, CaCertificateResponse__Output as _drover_agent_v1_CaCertificateResponse__Output } from './drover/agent/v1/CaCertificateResponse';
import type { CloudInit as _drover_agent_v1_CloudInit, CloudInit__Output as _drover_agent_v1_CloudInit__Output } from './drover/agent/v1/CloudInit';
import type { Command as _drover_agent_v1_Command, Command__Output as _drover_agent_v1_Command__Output } from './drover/agent/v1/Command';
import type { CommandResult as _drover_agent_v1_CommandResult, CommandResult__Output as _drover_agent_v1_CommandResult__Output } from './drover/agent/v1/CommandResult';
import type { ConsoleFacts as _drover_agent_v1_ConsoleFacts, ConsoleFacts__Output as _drover_agent_v1_ConsoleFacts__Output } from './drover/agent/v1/ConsoleFacts';
import type { ConsoleTicket as _drover_agent_v1_ConsoleTicket, ConsoleTicket__Output as _drover_agent_v1_ConsoleTicket__Output } from './drover/agent/v1/ConsoleTicket';
import type { ControllerMessage as _drover_agent_v1_ControllerMessage, ControllerMessage__Output as _drover_agent_v1_ControllerMessage__Output } from './drover/agent/v1/ControllerMessage';
import type { DiskDevice as _drover_agent_v1_DiskDevice, DiskDevice__Output as _drover_agent_v1_DiskDevice__Output } from './drover/agent/v1/DiskDevice';
import type { DomainState as _drover_agent_v1_DomainState, DomainState__Output as _drover_agent_v1_DomainState__Output } from './drover/agent/v1/DomainState';
import type { EnrollRequest as _drover_agent_v1_EnrollRequest, EnrollRequest__Output as _drover_agent_v1_EnrollRequest__Output } from './drover/agent/v1/EnrollRequest';
import type { EnrollResponse as _drover_agent_v1_EnrollResponse, EnrollResponse__Output as _drover_agent_v1_EnrollResponse__Output } from './drover/agent/v1/EnrollResponse';
import type { Heartbeat as _drover_agent_v1_Heartbeat, Heartbeat__Output as _drover_agent_v1_Heartbeat__Output } from './drover/agent/v1/Heartbeat';
import type { Hello as _drover_agent_v1_Hello, Hello__Output as _drover_agent_v1_Hello__Output } from './drover/agent/v1/Hello';
import type { HypervisorUnreachable as _drover_agent_v1_HypervisorUnreachable, HypervisorUnreachable__Output as _drover_agent_v1_HypervisorUnreachable__Output } from './drover/agent/v1/HypervisorUnreachable';
import type { Inventory as _drover_agent_v1_Inventory, Inventory__Output as _drover_agent_v1_Inventory__Output } from './drover/agent/v1/Inventory';
import type { IsoFile as _drover_agent_v1_IsoFile, IsoFile__Output as _drover_agent_v1_IsoFile__Output } from './drover/agent/v1/IsoFile';
import type { IsoFileFacts as _drover_agent_v1_IsoFileFacts, IsoFileFacts__Output as _drover_agent_v1_IsoFileFacts__Output } from './drover/agent/v1/IsoFileFacts';
import type { MediumFacts as _drover_agent_v1_MediumFacts, MediumFacts__Output as _drover_agent_v1_MediumFacts__Output } from './drover/agent/v1/MediumFacts';
import type { MigrationProgress as _drover_agent_v1_MigrationProgress, MigrationProgress__Output as _drover_agent_v1_MigrationProgress__Output } from './drover/agent/v1/MigrationProgress';
import type { MigrationSpec as _drover_agent_v1_MigrationSpec, MigrationSpec__Output as _drover_agent_v1_MigrationSpec__Output } from './drover/agent/v1/MigrationSpec';
import type { NetworkSpec as _drover_agent_v1_NetworkSpec, NetworkSpec__Output as _drover_agent_v1_NetworkSpec__Output } from './drover/agent/v1/NetworkSpec';
import type { NicDevice as _drover_agent_v1_NicDevice, NicDevice__Output as _drover_agent_v1_NicDevice__Output } from './drover/agent/v1/NicDevice';
import type { RebootFacts as _drover_agent_v1_RebootFacts, RebootFacts__Output as _drover_agent_v1_RebootFacts__Output } from './drover/agent/v1/RebootFacts';
import type { RenewRequest as _drover_agent_v1_RenewRequest, RenewRequest__Output as _drover_agent_v1_RenewRequest__Output } from './drover/agent/v1/RenewRequest';
import type { RenewResponse as _drover_agent_v1_RenewResponse, RenewResponse__Output as _drover_agent_v1_RenewResponse__Output } from './drover/agent/v1/RenewResponse';
import type { StateChange as _drover_agent_v1_StateChange, StateChange__Output as _drover_agent_v1_StateChange__Output } from './drover/agent/v1/StateChange';
import type { StorageReport as _drover_agent_v1_StorageReport, StorageReport__Output as _drover_agent_v1_StorageReport__Output } from './drover/agent/v1/StorageReport';
import type { StorageSpec as _drover_agent_v1_StorageSpec, StorageSpec__Output as _drover_agent_v1_StorageSpec__Output } from './drover/agent/v1/StorageSpec';
import type { StorageUsage as _drover_agent_v1_StorageUsage, StorageUsage__Output as _drover_agent_v1_StorageUsage__Output } from './drover/agent/v1/StorageUsage';
import type { VmSpec as _drover_agent_v1_VmSpec, VmSpec__Output as _drover_agent_v1_VmSpec__Output } from './drover/agent/v1/VmSpec';
import type { VolumeFacts as _drover_agent_v1_VolumeFacts, VolumeFacts__Output as _drover_agent_v1_VolumeFacts__Output } from './drover/agent/v1/VolumeFacts';
import type { VolumeRef as _drover_agent_v1_VolumeRef, VolumeRef__Output as _drover_agent_v1_VolumeRef__Output } from './drover/agent/v1/VolumeRef';
import type { VolumeSpec as _drover_agent_v1_VolumeSpec, VolumeSpec__Output as _drover_agent_v1_VolumeSpec__Output } from './drover/agent/v1/VolumeSpec';
import type { Welcome as _drover_agent_v1_Welcome, Welcome__Output as _drover_agent_v1_Welcome__Output } from './drover/agent/v1/Welcome';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  drover: {
    agent: {
      v1: {
        AgentGateway: SubtypeConstructor<typeof grpc.Client, _drover_agent_v1_AgentGatewayClient> & { service: _drover_agent_v1_AgentGatewayDefinition }
        AgentMessage: MessageTypeDefinition<_drover_agent_v1_AgentMessage, _drover_agent_v1_AgentMessage__Output>
        CaCertificateRequest: MessageTypeDefinition<_drover_agent_v1_CaCertificateRequest, _drover_agent_v1_CaCertificateRequest__Output>
        CaCertificateResponse: MessageTypeDefinition<_drover_agent_v1_CaCertificateResponse, _drover_agent_v1_CaCertificateResponse__Output>
        CloudInit: MessageTypeDefinition<_drover_agent_v1_CloudInit, _drover_agent_v1_CloudInit__Output>
        Command: MessageTypeDefinition<_drover_agent_v1_Command, _drover_agent_v1_Command__Output>
        CommandError: EnumTypeDefinition
        CommandKind: EnumTypeDefinition
        CommandResult: MessageTypeDefinition<_drover_agent_v1_CommandResult, _drover_agent_v1_CommandResult__Output>
        ConsoleFacts: MessageTypeDefinition<_drover_agent_v1_ConsoleFacts, _drover_agent_v1_ConsoleFacts__Output>
        ConsoleTicket: MessageTypeDefinition<_drover_agent_v1_ConsoleTicket, _drover_agent_v1_ConsoleTicket__Output>
        ControllerMessage: MessageTypeDefinition<_drover_agent_v1_ControllerMessage, _drover_agent_v1_ControllerMessage__Output>
        DiskDevice: MessageTypeDefinition<_drover_agent_v1_DiskDevice, _drover_agent_v1_DiskDevice__Output>
        DomainState: MessageTypeDefinition<_drover_agent_v1_DomainState, _drover_agent_v1_DomainState__Output>
        EnrollRequest: MessageTypeDefinition<_drover_agent_v1_EnrollRequest, _drover_agent_v1_EnrollRequest__Output>
        EnrollResponse: MessageTypeDefinition<_drover_agent_v1_EnrollResponse, _drover_agent_v1_EnrollResponse__Output>
        Heartbeat: MessageTypeDefinition<_drover_agent_v1_Heartbeat, _drover_agent_v1_Heartbeat__Output>
        Hello: MessageTypeDefinition<_drover_agent_v1_Hello, _drover_agent_v1_Hello__Output>
        HypervisorUnreachable: MessageTypeDefinition<_drover_agent_v1_HypervisorUnreachable, _drover_agent_v1_HypervisorUnreachable__Output>
        Inventory: MessageTypeDefinition<_drover_agent_v1_Inventory, _drover_agent_v1_Inventory__Output>
        IsoFile: MessageTypeDefinition<_drover_agent_v1_IsoFile, _drover_agent_v1_IsoFile__Output>
        IsoFileFacts: MessageTypeDefinition<_drover_agent_v1_IsoFileFacts, _drover_agent_v1_IsoFileFacts__Output>
        MediumFacts: MessageTypeDefinition<_drover_agent_v1_MediumFacts, _drover_agent_v1_MediumFacts__Output>
        MigrationProgress: MessageTypeDefinition<_drover_agent_v1_MigrationProgress, _drover_agent_v1_MigrationProgress__Output>
        MigrationSpec: MessageTypeDefinition<_drover_agent_v1_MigrationSpec, _drover_agent_v1_MigrationSpec__Output>
        NetworkSpec: MessageTypeDefinition<_drover_agent_v1_NetworkSpec, _drover_agent_v1_NetworkSpec__Output>
        NicDevice: MessageTypeDefinition<_drover_agent_v1_NicDevice, _drover_agent_v1_NicDevice__Output>
        PowerState: EnumTypeDefinition
        RebootFacts: MessageTypeDefinition<_drover_agent_v1_RebootFacts, _drover_agent_v1_RebootFacts__Output>
        RenewRequest: MessageTypeDefinition<_drover_agent_v1_RenewRequest, _drover_agent_v1_RenewRequest__Output>
        RenewResponse: MessageTypeDefinition<_drover_agent_v1_RenewResponse, _drover_agent_v1_RenewResponse__Output>
        StateChange: MessageTypeDefinition<_drover_agent_v1_StateChange, _drover_agent_v1_StateChange__Output>
        StorageReport: MessageTypeDefinition<_drover_agent_v1_StorageReport, _drover_agent_v1_StorageReport__Output>
        StorageSpec: MessageTypeDefinition<_drover_agent_v1_StorageSpec, _drover_agent_v1_StorageSpec__Output>
        StorageUsage: MessageTypeDefinition<_drover_agent_v1_StorageUsage, _drover_agent_v1_StorageUsage__Output>
        VmSpec: MessageTypeDefinition<_drover_agent_v1_VmSpec, _drover_agent_v1_VmSpec__Output>
        VolumeFacts: MessageTypeDefinition<_drover_agent_v1_VolumeFacts, _drover_agent_v1_VolumeFacts__Output>
        VolumeRef: MessageTypeDefinition<_drover_agent_v1_VolumeRef, _drover_agent_v1_VolumeRef__Output>
        VolumeSpec: MessageTypeDefinition<_drover_agent_v1_VolumeSpec, _drover_agent_v1_VolumeSpec__Output>
        Welcome: MessageTypeDefinition<_drover_agent_v1_Welcome, _drover_agent_v1_Welcome__Output>
      }
    }
  }
}

