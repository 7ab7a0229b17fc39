/**
 * The one error type services raise. `kind` says what went wrong in domain
 * terms; the HTTP layer (api/errors.ts) and the gRPC layer (gateway/grpc-status.ts)
 * each map kinds to their status codes in one place.
 *
 * - `invalid`: the request is malformed or breaks a rule about its values.
 * - `not_found`: the object does not exist.
 * - `conflict`: the object's current state does not allow the operation.
 * - `unavailable`: a host needed for the operation cannot be reached.
 * - `unauthorized`: no or bad credentials.
 * - `forbidden`: the user may see the object but lacks the permit the operation needs.
 * - `too_large`: the request body is larger than the documented limit.
 * - `unsupported_media`: the body's content type is not XML or JSON.
 * - `failed`: the hypervisor failed the operation.
 * - `timeout`: the operation did not end in time.
 * - `precondition_failed`: the object changed since the version the request names (If-Match).
 * - `method_not_allowed`: the object or collection exists, but not the operation the request names (its method).
 */
export const errorKinds = ['invalid', 'not_found', 'conflict', 'unavailable', 'unauthorized', 'forbidden', 'too_large', 'unsupported_media', 'failed', 'timeout', 'precondition_failed', 'method_not_allowed', 'gone'] as const;
export type ErrorKind = (typeof errorKinds)[number];

/** The error kind a task stored, or `fallback` when it stored none or one this version does not know. */
export function storedErrorKind(stored: string | null | undefined, fallback: ErrorKind): ErrorKind {
  return (errorKinds as readonly (string | null | undefined)[]).includes(stored) ? (stored as ErrorKind) : fallback;
}

export class ServiceError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly reason: string,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

export const invalid = (detail: string) => new ServiceError('invalid', 'Invalid request', detail);
export const notFound = (what: string, id: string) => new ServiceError('not_found', 'Not Found', `${what} ${id} does not exist`);
export const conflict = (detail: string) => new ServiceError('conflict', 'Operation Failed', detail);
export const forbidden = (detail: string) => new ServiceError('forbidden', 'Forbidden', detail);
export const unavailable = (detail: string) => new ServiceError('unavailable', 'Host Unavailable', detail);

/**
 * Not an error but a "not yet": what an operation needs is not known yet (a
 * host has not reported since the controller started, say). The caller may
 * try again once `until` resolves, instead of failing.
 */
export class NotYet extends Error {
  constructor(
    readonly until: Promise<unknown>,
    why: string,
  ) {
    super(why);
  }
}
