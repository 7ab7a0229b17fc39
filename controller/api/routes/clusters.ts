import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { respond } from '../context.js';
import { documentOf } from '../input/request.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';
import { followable, ifMatch } from './steps.js';

function clusterInput(fields: Fields, creating: boolean) {
  return {
    name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
    description: fields.text('description', { max: 4000 }),
    dataCenter: fields.reference('data_center', { required: creating }),
    cpuArchitecture: fields.nested('cpu')?.oneOf('architecture', ['x86_64', 'aarch64', 'ppc64', 's390x']),
    macPool: fields.reference('mac_pool'),
  };
}

export function clusterRoutes(router: ApiRouter, services: Services): void {
  const { clusters } = services;
  router.post('/clusters', async (ctx) => {
    const input = clusterInput(await documentOf(ctx, 'cluster'), true);
    const cluster = await clusters.create({ ...input, name: input.name!, dataCenter: input.dataCenter! });
    ctx.set('Location', ctx.state.present.href('clusters', cluster.id));
    respond(ctx, 201, 'cluster', ctx.state.present.cluster(cluster));
  });
  router.get('/clusters/:id', followable(services, 'cluster'), async (ctx) => {
    respond(ctx, 200, 'cluster', ctx.state.present.cluster(await clusters.get(ctx.params.id!)));
  });
  router.put('/clusters/:id', ifMatch(services, 'cluster'), async (ctx) => {
    const input = clusterInput(await documentOf(ctx, 'cluster'), false);
    respond(ctx, 200, 'cluster', ctx.state.present.cluster(await clusters.update(ctx.params.id!, input)));
  });
  router.delete('/clusters/:id', ifMatch(services, 'cluster'), async (ctx) => {
    await clusters.remove(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });
}
