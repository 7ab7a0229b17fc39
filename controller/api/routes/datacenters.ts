import type Router from '@koa/router';
import type { DataCenterService } from '../../services/datacenters.js';
import type { ClusterService } from '../../services/clusters.js';
import { respond, respondList, type ApiState } from '../context.js';
import { documentOf } from '../input/request.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';

function dataCenterInput(fields: Fields, creating: boolean) {
  return {
    name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
    description: fields.text('description', { max: 4000 }),
    local: fields.boolean('local'),
  };
}

export function dataCenterRoutes(router: Router<ApiState>, dataCenters: DataCenterService, clusters: ClusterService): void {
  router.get('/datacenters', async (ctx) => {
    respondList(ctx, 'data_centers', 'data_center', (await dataCenters.list()).map((dc) => ctx.state.present.dataCenter(dc)));
  });
  router.post('/datacenters', async (ctx) => {
    const input = dataCenterInput(await documentOf(ctx, 'data_center'), true);
    const dc = await dataCenters.create({ ...input, name: input.name! });
    ctx.set('Location', ctx.state.present.href('datacenters', dc.id));
    respond(ctx, 201, 'data_center', ctx.state.present.dataCenter(dc));
  });
  router.get('/datacenters/:id', async (ctx) => {
    respond(ctx, 200, 'data_center', ctx.state.present.dataCenter(await dataCenters.get(ctx.params.id!)));
  });
  router.put('/datacenters/:id', async (ctx) => {
    const input = dataCenterInput(await documentOf(ctx, 'data_center'), false);
    respond(ctx, 200, 'data_center', ctx.state.present.dataCenter(await dataCenters.update(ctx.params.id!, input)));
  });
  router.delete('/datacenters/:id', async (ctx) => {
    await dataCenters.remove(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });
  router.get('/datacenters/:id/clusters', async (ctx) => {
    const dc = await dataCenters.get(ctx.params.id!);
    const all = await clusters.list();
    respondList(ctx, 'clusters', 'cluster', all.filter((cluster) => cluster.dataCenterId === dc.id).map((cluster) => ctx.state.present.cluster(cluster)));
  });
}
