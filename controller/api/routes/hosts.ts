import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { invalid } from '../../rules/errors.js';
import { respond } from '../context.js';
import { followable, ifMatch } from './steps.js';

export function hostRoutes(router: ApiRouter, services: Services): void {
  const { hosts } = services;
  router.post('/hosts', async () => {
    throw invalid('hosts enroll themselves: create an enrollment token (POST /hostenrollmenttokens), and start drover-agent on the host with it as DROVER_ENROLLMENT_TOKEN');
  });
  router.get('/hosts/:id', followable(services, 'host'), async (ctx) => {
    respond(ctx, 200, 'host', ctx.state.present.host(await hosts.get(ctx.params.id!)));
  });
  router.delete('/hosts/:id', ifMatch(services, 'host'), async (ctx) => {
    await hosts.remove(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });
}
