import Router from '@koa/router';
import type { AuthService } from '../../services/auth.js';
import { LoginThrottled } from '../../services/login-throttle.js';
import { ServiceError } from '../../rules/errors.js';
import type { ApiContext, ApiState } from '../context.js';
import { readBody } from '../input/body.js';
import { controlCharacters } from '../input/fields.js';

async function formOf(ctx: ApiContext): Promise<URLSearchParams> {
  const form = new URLSearchParams(ctx.querystring);
  const body = (await readBody(ctx.req, 64 * 1024)).toString('utf8');
  for (const [key, value] of new URLSearchParams(body)) form.set(key, value);
  return form;
}

function ssoError(ctx: ApiContext, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.body = { error_code: error, error, error_description: description };
}

/**
 * oVirt's SSO endpoints: the OAuth password grant that issues bearer tokens, and logout. A password
 * grant refused by the login throttle is answered 429 with Retry-After and oVirt's error JSON.
 * Logout answers `{}` whether or not it knew the token, as oVirt's engine does, and keeps nothing
 * of a token it did not know.
 */
export function ssoRoutes(auth: AuthService): Router<ApiState> {
  const router = new Router<ApiState>();
  router.post('/ovirt-engine/sso/oauth/token', async (ctx) => {
    const form = await formOf(ctx);
    if (form.get('grant_type') !== 'password') {
      return ssoError(ctx, 400, 'unsupported_grant_type', 'only grant_type=password is supported');
    }
    const scope = form.get('scope') ?? 'ovirt-app-api';
    const username = form.get('username');
    const password = form.get('password');
    if (!username || password === null) return ssoError(ctx, 400, 'invalid_request', 'username and password are required');
    if (controlCharacters.test(username) || controlCharacters.test(password)) {
      return ssoError(ctx, 400, 'access_denied', `Cannot authenticate user '${username.replace(new RegExp(controlCharacters.source, 'gu'), '?')}': the user name or password is incorrect.`);
    }
    try {
      const principal = await auth.authenticatePassword(username, password, ctx.ip);
      const { token, expiresAt } = await auth.issueToken(principal);
      ctx.body = { access_token: token, scope, exp: String(expiresAt), token_type: 'bearer' };
    } catch (error) {
      if (error instanceof ServiceError && error.kind === 'unauthorized') {
        return ssoError(ctx, 400, 'access_denied', `Cannot authenticate user '${username}': the user name or password is incorrect.`);
      }
      if (error instanceof LoginThrottled) {
        ctx.set('Retry-After', String(error.retryAfterSeconds));
        return ssoError(ctx, 429, 'access_denied', `Cannot authenticate user '${username}': ${error.message}.`);
      }
      throw error;
    }
  });
  router.post('/ovirt-engine/services/sso-logout', async (ctx) => {
    const form = await formOf(ctx);
    const bearer = /^Bearer\s+(\S+)$/i.exec(ctx.get('Authorization'))?.[1];
    const token = form.get('token') ?? bearer;
    if (token) await auth.revokeToken(token);
    ctx.body = {};
  });
  return router;
}
