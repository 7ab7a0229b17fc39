import type { ErrorKind } from '../rules/errors.js';

/** The one mapping from service error kinds to HTTP status codes. */
export const httpStatusOf: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media: 415,
  failed: 502,
  unavailable: 503,
  timeout: 504,
  precondition_failed: 412,
  method_not_allowed: 405,
  gone: 410,
};
