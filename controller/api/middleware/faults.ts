import type { Next } from 'koa';
import type { Logger } from 'pino';
import { ServiceError } from '../../rules/errors.js';
import { httpStatusOf } from '../errors.js';
import { respond, type ApiContext } from '../context.js';

/**
 * Turns every error into an oVirt fault with the mapped status; only unexpected errors are 500s, and they are logged.
 * A request no route answered is a 405 when `allowedMethods` knows its path, otherwise a 404.
 */
export function faults(log: Logger, allowedMethods: (path: string) => string[]) {
  return async (ctx: ApiContext, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        const allowed = allowedMethods(ctx.path);
        if (allowed.length === 0) throw new ServiceError('not_found', 'Not Found', `${ctx.method} ${ctx.originalUrl} matches no resource`);
        ctx.set('Allow', allowed.join(', '));
        throw new ServiceError('method_not_allowed', 'Method Not Allowed', `${ctx.method} is not allowed on ${ctx.originalUrl}; allowed: ${allowed.join(', ')}`);
      }
    } catch (error) {
      const status = error instanceof ServiceError ? httpStatusOf[error.kind] : 500;
      const fault = error instanceof ServiceError ? error : { reason: 'Internal Server Error', detail: 'an unexpected error occurred; see the controller log' };
      if (!(error instanceof ServiceError)) log.error({ err: error, url: ctx.originalUrl }, 'request failed');
      if (status === 401) ctx.set('WWW-Authenticate', 'Basic realm="RESTAPI"');
      respond(ctx, status, 'fault', ctx.state.present ? ctx.state.present.fault(fault) : { reason: fault.reason, detail: fault.detail });
    }
  };
}
