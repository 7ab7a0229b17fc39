import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { respond } from '../context.js';
import { documentOf, queryFlag } from '../input/request.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';
import { answerWithTask } from './tasks.js';
import { vmSettingsInput } from './vms.js';
import { templateFields } from '../input/vm-fields.js';
import { followable, ifMatch } from './steps.js';

function templateInput(fields: Fields, creating: boolean) {
  return {
    ...vmSettingsInput(fields),
    name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
    cluster: fields.reference('cluster'),
    vm: fields.reference('vm', { required: creating }),
  };
}

export function templateRoutes(router: ApiRouter, services: Services): void {
  const { templates, tasks } = services;
  router.post('/templates', async (ctx) => {
    const input = templateInput(await documentOf(ctx, 'template', templateFields), true);
    const { template } = await templates.create({ ...input, name: input.name!, vm: input.vm! }, ctx.state.correlationId);
    ctx.set('Location', ctx.state.present.href('templates', template.id));
    respond(ctx, 201, 'template', ctx.state.present.template(template));
  });
  router.get('/templates/:id', followable(services, 'template'), async (ctx) => {
    respond(ctx, 200, 'template', ctx.state.present.template(await templates.get(ctx.params.id!)));
  });
  router.put('/templates/:id', ifMatch(services, 'template'), async (ctx) => {
    const { vm: _vm, ...input } = templateInput(await documentOf(ctx, 'template', templateFields), false);
    respond(ctx, 200, 'template', ctx.state.present.template(await templates.update(ctx.params.id!, input)));
  });
  router.delete('/templates/:id', ifMatch(services, 'template'), async (ctx) => {
    const task = await templates.remove(ctx.params.id!, ctx.state.correlationId);
    await answerWithTask(ctx, tasks, task, queryFlag(ctx, 'async') ?? false);
  });
}
