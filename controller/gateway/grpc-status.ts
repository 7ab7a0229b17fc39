import { status } from '@grpc/grpc-js';
import type { ErrorKind } from '../rules/errors.js';

/** The one mapping from service error kinds to gRPC status codes. */
export const grpcStatusOf: Record<ErrorKind, status> = {
  invalid: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  conflict: status.FAILED_PRECONDITION,
  unavailable: status.UNAVAILABLE,
  unauthorized: status.UNAUTHENTICATED,
  forbidden: status.PERMISSION_DENIED,
  too_large: status.RESOURCE_EXHAUSTED,
  unsupported_media: status.INVALID_ARGUMENT,
  failed: status.INTERNAL,
  timeout: status.DEADLINE_EXCEEDED,
  precondition_failed: status.FAILED_PRECONDITION,
  method_not_allowed: status.UNIMPLEMENTED,
  gone: status.OUT_OF_RANGE,
};
