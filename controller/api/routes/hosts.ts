import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { invalid } from '../../rules/errors.js';
import { respond, respondList, type ApiContext } from '../context.js';
import { optionalDocumentOf, queryFlag } from '../input/request.js';
import type { Fields } from '../input/fields.js';
import type { FieldTable } from '../input/vm-fields.js';
import { fenceTypes, hostActions } from '../../rules/host-admin.js';
import { answerWithTask } from './tasks.js';
import { followable, ifMatch } from './steps.js';

/** What each host action's document accepts. */
const hostActionFields: Record<(typeof hostActions)[number], FieldTable> = {
  deactivate: { async: { kind: 'read' } },
  activate: { async: { kind: 'read' } },
  fence: { async: { kind: 'read' }, fence_type: { kind: 'read' } },
};

function isAsync(ctx: ApiContext, body: Fields): boolean {
  return queryFlag(ctx, 'async') ?? body.boolean('async') ?? false;
}

/** oVirt's fence action: Drover carries out only `manual`, the administrator's word that the host is down. */
function checkFence(body: Fields): void {
  const type = body.oneOf('fence_type', fenceTypes, { required: true });
  if (type !== 'manual') {
    throw invalid(`Drover has no power management, so it cannot ${type} a host; fence_type manual confirms that a non-responsive host is down (oVirt's "confirm host has been rebooted")`);
  }
}

export function hostRoutes(router: ApiRouter, services: Services): void {
  const { hosts } = services;
  router.post('/hosts', async () => {
    throw invalid('hosts enroll themselves: create an enrollment token (POST /hostenrollmenttokens), and start drover-agent on the host with it as DROVER_ENROLLMENT_TOKEN');
  });
  router.get('/hosts/:id', followable(services, 'host'), async (ctx) => {
    respond(ctx, 200, 'host', ctx.state.present.host(await hosts.get(ctx.params.id!)));
  });
  router.get('/hosts/:id/numanodes', async (ctx) => {
    await hosts.get(ctx.params.id!);
    respondList(ctx, 'host_numa_nodes', 'host_numa_node', []);
  });
  for (const action of hostActions) {
    router.post(`/hosts/:id/${action}`, async (ctx) => {
      const body = await optionalDocumentOf(ctx, 'action', hostActionFields[action]);
      if (action === 'fence') checkFence(body);
      const asynchronous = isAsync(ctx, body);
      const task = await hosts.requestAction(ctx.params.id!, action, ctx.state.correlationId);
      await answerWithTask(ctx, services.tasks, task, asynchronous);
    });
  }
  router.delete('/hosts/:id', ifMatch(services, 'host'), async (ctx) => {
    await hosts.remove(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });
}
