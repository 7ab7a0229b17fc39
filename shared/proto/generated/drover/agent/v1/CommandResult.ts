// Original file: proto/drover/agent/v1/agent.proto

import type { CommandError as _drover_agent_v1_CommandError, CommandError__Output as _drover_agent_v1_CommandError__Output } from '../../../drover/agent/v1/CommandError';
import type { DomainState as _drover_agent_v1_DomainState, DomainState__Output as _drover_agent_v1_DomainState__Output } from '../../../drover/agent/v1/DomainState';
import type { VolumeFacts as _drover_agent_v1_VolumeFacts, VolumeFacts__Output as _drover_agent_v1_VolumeFacts__Output } from '../../../drover/agent/v1/VolumeFacts';
import type { StorageUsage as _drover_agent_v1_StorageUsage, StorageUsage__Output as _drover_agent_v1_StorageUsage__Output } from '../../../drover/agent/v1/StorageUsage';
import type { ConsoleFacts as _drover_agent_v1_ConsoleFacts, ConsoleFacts__Output as _drover_agent_v1_ConsoleFacts__Output } from '../../../drover/agent/v1/ConsoleFacts';
import type { RebootFacts as _drover_agent_v1_RebootFacts, RebootFacts__Output as _drover_agent_v1_RebootFacts__Output } from '../../../drover/agent/v1/RebootFacts';
import type { IsoFileFacts as _drover_agent_v1_IsoFileFacts, IsoFileFacts__Output as _drover_agent_v1_IsoFileFacts__Output } from '../../../drover/agent/v1/IsoFileFacts';
import type { MediumFacts as _drover_agent_v1_MediumFacts, MediumFacts__Output as _drover_agent_v1_MediumFacts__Output } from '../../../drover/agent/v1/MediumFacts';

export interface CommandResult {
  'command_id'?: (string);
  'ok'?: (boolean);
  'error'?: (_drover_agent_v1_CommandError);
  'message'?: (string);
  'domain'?: (_drover_agent_v1_DomainState | null);
  'volume'?: (_drover_agent_v1_VolumeFacts | null);
  'storage'?: (_drover_agent_v1_StorageUsage | null);
  'console'?: (_drover_agent_v1_ConsoleFacts | null);
  'reboot'?: (_drover_agent_v1_RebootFacts | null);
  'domain_unknown'?: (boolean);
  'migration_id'?: (string);
  'migration_job_active'?: (boolean);
  'iso_files'?: (_drover_agent_v1_IsoFileFacts)[];
  'medium'?: (_drover_agent_v1_MediumFacts | null);
}

export interface CommandResult__Output {
  'command_id': (string);
  'ok': (boolean);
  'error': (_drover_agent_v1_CommandError__Output);
  'message': (string);
  'domain': (_drover_agent_v1_DomainState__Output | null);
  'volume': (_drover_agent_v1_VolumeFacts__Output | null);
  'storage': (_drover_agent_v1_StorageUsage__Output | null);
  'console': (_drover_agent_v1_ConsoleFacts__Output | null);
  'reboot': (_drover_agent_v1_RebootFacts__Output | null);
  'domain_unknown': (boolean);
  'migration_id': (string);
  'migration_job_active': (boolean);
  'iso_files': (_drover_agent_v1_IsoFileFacts__Output)[];
  'medium': (_drover_agent_v1_MediumFacts__Output | null);
}
