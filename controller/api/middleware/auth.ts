import type { Next } from 'koa';
import type { AuthService } from '../../services/auth.js';
import type { UserService } from '../../services/users.js';
import { unauthorized } from '../../services/auth.js';
import { LoginThrottled } from '../../services/login-throttle.js';
import { respond, type ApiContext } from '../context.js';
import { controlCharacters } from '../input/fields.js';

/**
 * Requires HTTP Basic credentials or a bearer token of an existing user on
 * every API request. Basic credentials refused by the login throttle are
 * answered 429 with Retry-After and a fault, without checking the password.
 */
export function authenticate(auth: AuthService, users: UserService) {
  return async (ctx: ApiContext, next: Next) => {
    const header = ctx.get('Authorization');
    const [scheme, credentials] = header.split(/\s+/, 2);
    if (!scheme || !credentials) throw unauthorized('this request needs HTTP Basic credentials or a bearer token');
    if (scheme.toLowerCase() === 'bearer') {
      ctx.state.principal = await auth.authenticateToken(credentials);
    } else if (scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw unauthorized('the Basic credentials are malformed');
      // No user name or password holds control characters, and a NUL would fail in the database rather than as a 401.
      if (controlCharacters.test(decoded)) throw unauthorized('the user name or password is not valid');
      try {
        ctx.state.principal = await auth.authenticatePassword(decoded.slice(0, colon), decoded.slice(colon + 1), ctx.ip);
      } catch (error) {
        if (!(error instanceof LoginThrottled)) throw error;
        ctx.set('Retry-After', String(error.retryAfterSeconds));
        respond(ctx, 429, 'fault', ctx.state.present.fault({ reason: 'Too Many Requests', detail: error.message }));
        return;
      }
    } else {
      throw unauthorized(`the ${scheme} authentication scheme is not supported`);
    }
    if (!(await users.userExists(ctx.state.principal.userId))) throw unauthorized('the user no longer exists');
    await next();
  };
}
