import type { ApiRouter } from '../routing.js';
import type { HostService } from '../../services/hosts.js';
import { invalid } from '../../rules/errors.js';
import { respond } from '../context.js';

export function hostRoutes(router: ApiRouter, hosts: HostService): void {
  router.post('/hosts', async () => {
    throw invalid('hosts register themselves: install and start drover-agent on the host, pointed at this controller');
  });
  router.get('/hosts/:id', async (ctx) => {
    respond(ctx, 200, 'host', ctx.state.present.host(await hosts.get(ctx.params.id!)));
  });
  router.delete('/hosts/:id', async (ctx) => {
    await hosts.remove(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });
}
