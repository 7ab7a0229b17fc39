import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { respond } from '../context.js';
import { documentOf } from '../input/request.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';
import { followable, ifMatch } from './steps.js';

function dataCenterInput(fields: Fields, creating: boolean) {
  return {
    name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
    description: fields.text('description', { max: 4000 }),
    local: fields.boolean('local'),
  };
}

export function dataCenterRoutes(router: ApiRouter, services: Services): void {
  const { dataCenters } = services;
  router.post('/datacenters', async (ctx) => {
    const input = dataCenterInput(await documentOf(ctx, 'data_center'), true);
    const dc = await dataCenters.create({ ...input, name: input.name! });
    ctx.set('Location', ctx.state.present.href('datacenters', dc.id));
    respond(ctx, 201, 'data_center', ctx.state.present.dataCenter(dc));
  });
  router.get('/datacenters/:id', followable(services, 'data_center'), async (ctx) => {
    respond(ctx, 200, 'data_center', ctx.state.present.dataCenter(await dataCenters.get(ctx.params.id!)));
  });
  router.put('/datacenters/:id', ifMatch(services, 'data_center'), async (ctx) => {
    const input = dataCenterInput(await documentOf(ctx, 'data_center'), false);
    respond(ctx, 200, 'data_center', ctx.state.present.dataCenter(await dataCenters.update(ctx.params.id!, input)));
  });
  router.delete('/datacenters/:id', ifMatch(services, 'data_center'), async (ctx) => {
    await dataCenters.remove(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });
}
