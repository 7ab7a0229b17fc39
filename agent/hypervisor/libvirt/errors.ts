import type { CommandErrorKind } from '../../../shared/model.js';
import { DriverError } from '../driver.js';
import { ErrorCode, isLibvirtError } from './native/index.js';

const kindByCode = new Map<number, CommandErrorKind>([
  [ErrorCode.NO_DOMAIN, 'domain_not_found'],
  [ErrorCode.OPERATION_INVALID, 'invalid_state'],
  [ErrorCode.NO_SUPPORT, 'not_supported'],
]);

/** Turns a libvirt error into a DriverError by its code (no domain, operation invalid, the rest a hypervisor failure). */
export function toDriverError(error: unknown): DriverError {
  if (isLibvirtError(error)) return new DriverError(kindByCode.get(error.code) ?? 'hypervisor_failure', error.message);
  return DriverError.from(error);
}

/** Whether an error is libvirt's answer that the operation does not fit the domain's state. */
export function isInvalidOperation(error: unknown): boolean {
  return isLibvirtError(error) && error.code === ErrorCode.OPERATION_INVALID;
}

export async function translateErrors<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toDriverError(error);
  }
}
