import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { unauthorized } from '../../services/auth.js';
import { maxPoolSize } from '../../services/vm-pools.js';
import { respond } from '../context.js';
import { documentOf, optionalDocumentOf, queryFlag } from '../input/request.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';
import { answerWithTask } from './tasks.js';
import { followable, ifMatch } from './steps.js';

function poolInput(fields: Fields, creating: boolean) {
  return {
    name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
    description: fields.text('description', { max: 4000 }),
    size: fields.integer('size', { required: creating, min: 0, max: maxPoolSize }),
    prestartedVms: fields.integer('prestarted_vms', { min: 0, max: maxPoolSize }),
    maxUserVms: fields.integer('max_user_vms', { min: 1, max: maxPoolSize }),
    poolType: fields.oneOf('type', ['automatic', 'manual'] as const),
    template: fields.reference('template', { required: creating }),
    cluster: fields.reference('cluster', { required: creating }),
  };
}

export function vmPoolRoutes(router: ApiRouter, services: Services): void {
  const { vmPools, tasks } = services;
  router.post('/vmpools', async (ctx) => {
    const input = poolInput(await documentOf(ctx, 'vm_pool'), true);
    const pool = await vmPools.create({ ...input, name: input.name!, size: input.size!, template: input.template!, cluster: input.cluster! }, ctx.state.correlationId);
    ctx.set('Location', ctx.state.present.href('vmpools', pool.id));
    respond(ctx, 201, 'vm_pool', ctx.state.present.vmPool(pool));
  });
  router.get('/vmpools/:id', followable(services, 'vm_pool'), async (ctx) => {
    respond(ctx, 200, 'vm_pool', ctx.state.present.vmPool(await vmPools.get(ctx.params.id!)));
  });
  router.put('/vmpools/:id', ifMatch(services, 'vm_pool'), async (ctx) => {
    const input = poolInput(await documentOf(ctx, 'vm_pool'), false);
    respond(ctx, 200, 'vm_pool', ctx.state.present.vmPool(await vmPools.update(ctx.params.id!, input, ctx.state.correlationId)));
  });
  router.delete('/vmpools/:id', ifMatch(services, 'vm_pool'), async (ctx) => {
    const task = await vmPools.remove(ctx.params.id!, ctx.state.correlationId);
    await answerWithTask(ctx, tasks, task, queryFlag(ctx, 'async') ?? false);
  });
  router.post('/vmpools/:id/allocatevm', async (ctx) => {
    await optionalDocumentOf(ctx, 'action');
    const principal = ctx.state.principal;
    if (!principal) throw unauthorized('allocatevm needs an authenticated user');
    const vm = await vmPools.allocate(ctx.params.id!, principal.userId, ctx.state.correlationId);
    const present = ctx.state.present;
    respond(ctx, 200, 'action', { ...present.action(undefined, 'complete'), vm: { $: { href: present.href('vms', vm.id), id: vm.id } } });
  });
}
