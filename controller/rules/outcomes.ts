import type { CommandErrorKind, CommandOutcome } from '../../shared/model.js';
import { ServiceError, conflict, unavailable } from './errors.js';

const errorOf: Record<CommandErrorKind, (message: string) => ServiceError> = {
  invalid_state: (message) => conflict(message),
  domain_not_found: (message) => conflict(message),
  invalid_command: (message) => new ServiceError('failed', 'Operation Failed', message),
  hypervisor_failure: (message) => new ServiceError('failed', 'Operation Failed', message),
  timed_out: (message) => new ServiceError('timeout', 'Operation Timed Out', message),
  not_supported: (message) => conflict(`the host's hypervisor cannot do this: ${message}`),
  storage_unreachable: (message) => new ServiceError('unavailable', 'Storage Unavailable', message),
  no_space: (message) => conflict(`not enough space on the storage domain: ${message}`),
  hypervisor_unreachable: (message) => unavailable(`${message}; what the operation did is unknown until the host has reconnected`),
};

/** The service error a failed command outcome stands for. */
export function outcomeError(outcome: Extract<CommandOutcome, { ok: false }>): ServiceError {
  return errorOf[outcome.error](outcome.message);
}
