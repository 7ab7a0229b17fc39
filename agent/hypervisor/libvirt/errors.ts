import type { CommandErrorKind } from '../../../shared/model.js';
import { DriverError } from '../driver.js';

const kindByMessage: [RegExp, CommandErrorKind][] = [
  [/domain not found|no domain with matching/i, 'domain_not_found'],
  [/already running|not running|is not active|already active|domain is not running|requested operation is not valid|operation invalid/i, 'invalid_state'],
];

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export function toDriverError(error: unknown): DriverError {
  if (error instanceof DriverError) return error;
  const message = messageOf(error);
  const kind = kindByMessage.find(([pattern]) => pattern.test(message))?.[1] ?? 'hypervisor_failure';
  return new DriverError(kind, message);
}

export async function translateErrors<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toDriverError(error);
  }
}
