import type Router from '@koa/router';
import type { HostService } from '../../services/hosts.js';
import type { TaskService } from '../../services/tasks.js';
import { invalid } from '../../services/errors.js';
import { respond, respondList, type ApiState } from '../context.js';

export function hostRoutes(router: Router<ApiState>, hosts: HostService, tasks: TaskService): void {
  router.get('/hosts', async (ctx) => {
    respondList(ctx, 'hosts', 'host', (await hosts.list()).map((host) => ctx.state.present.host(host)));
  });
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
  router.get('/hosts/:id/tasks', async (ctx) => {
    respondList(ctx, 'tasks', 'task', (await tasks.listForHost(ctx.params.id!)).map((task) => ctx.state.present.task(task)));
  });
}
