import type { CommandErrorKind, CommandOutcome, RebootFacts } from '../../shared/model.js';
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
  in_use: (message) => conflict(message),
  hypervisor_unreachable: (message) => unavailable(`${message}; what the operation did is unknown until the host has reconnected`),
};

/** The service error a failed command outcome stands for. */
export function outcomeError(outcome: Extract<CommandOutcome, { ok: false }>): ServiceError {
  return errorOf[outcome.error](outcome.message);
}

/** What a reboot task's description says happened: the guest rebooted as asked, or was reset when it had not in time. */
export function rebootDescription(reboot: RebootFacts): string {
  const seconds = Math.round(reboot.waitedMs / 100) / 10;
  if (reboot.reset) return `the guest did not reboot within ${seconds} s of the request and was reset`;
  return `the guest rebooted ${seconds} s after the request`;
}
