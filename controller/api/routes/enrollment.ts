import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { respond, respondList } from '../context.js';
import { documentOf } from '../input/request.js';
import { maxTokenLifetimeMs } from '../../services/enrollment.js';
import { ifMatchDocument } from './steps.js';
import { invalid } from '../../rules/errors.js';

/**
 * Host enrollment tokens: an administrator creates one for each host to
 * enroll (its secret is in the answer to the POST and nowhere else), gives
 * it to the host's agent as DROVER_ENROLLMENT_TOKEN, and may list and delete
 * them.
 */
export function enrollmentRoutes(router: ApiRouter, services: Services): void {
  const { enrollment } = services;
  router.post('/hostenrollmenttokens', async (ctx) => {
    const fields = await documentOf(ctx, 'host_enrollment_token');
    const lifetimeSeconds = fields.integer('lifetime', { min: 1, max: maxTokenLifetimeMs / 1000 });
    const expiresAt = fields.date('expiration_time');
    if (lifetimeSeconds !== undefined && expiresAt !== undefined) throw invalid('host_enrollment_token takes a lifetime or an expiration_time, not both');
    const created = await enrollment.createToken({
      description: fields.text('description', { max: 4000 }),
      lifetimeMs: lifetimeSeconds === undefined ? undefined : lifetimeSeconds * 1000,
      expiresAt,
      createdBy: ctx.state.principal?.userId,
    });
    ctx.set('Location', ctx.state.present.href('hostenrollmenttokens', created.record.id));
    respond(ctx, 201, 'host_enrollment_token', ctx.state.present.hostEnrollmentToken(created.record, created.token));
  });
  router.get('/hostenrollmenttokens', async (ctx) => {
    respondList(ctx, 'host_enrollment_tokens', 'host_enrollment_token', (await enrollment.listTokens()).map((token) => ctx.state.present.hostEnrollmentToken(token)));
  });
  router.get('/hostenrollmenttokens/:id', async (ctx) => {
    respond(ctx, 200, 'host_enrollment_token', ctx.state.present.hostEnrollmentToken(await enrollment.getToken(ctx.params.id!)));
  });
  router.delete(
    '/hostenrollmenttokens/:id',
    ifMatchDocument('host_enrollment_token', async (ctx) => {
      const token = await enrollment.getToken(ctx.params.id!);
      return () => ctx.state.present.hostEnrollmentToken(token);
    }),
    async (ctx) => {
      await enrollment.removeToken(ctx.params.id!);
      respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
    },
  );
}
