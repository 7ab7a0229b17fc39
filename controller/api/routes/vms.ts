import type Router from '@koa/router';
import type { VmService } from '../../services/vms.js';
import type { TaskService } from '../../services/tasks.js';
import { invalid, notFound } from '../../services/errors.js';
import { apiVmActions, vmActions, type VmAction } from '../../scheduler/vm-actions.js';
import { respond, respondList, type ApiContext, type ApiState } from '../context.js';
import { documentOf, optionalDocumentOf, queryFlag } from '../input/request.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';
import { answerWithTask } from './tasks.js';

const mebibyte = 1024 * 1024;
const maxMemoryBytes = 16 * 1024 * 1024 * mebibyte;

function vmInput(fields: Fields, creating: boolean) {
  const topology = fields.nested('cpu')?.nested('topology');
  const count = (name: string) => topology?.integer(name, { min: 1, max: 256 });
  const cpu = topology ? { sockets: count('sockets'), cores: count('cores'), threads: count('threads') } : undefined;
  if (cpu && (cpu.sockets ?? 1) * (cpu.cores ?? 1) * (cpu.threads ?? 1) > 512) throw invalid('vm.cpu.topology allows at most 512 virtual CPUs in all');
  return {
    name: fields.text('name', { required: creating, pattern: namePattern, patternHint: nameHint }),
    description: fields.text('description', { max: 4000 }),
    memoryBytes: fields.integer('memory', { required: creating, min: 16 * mebibyte, max: maxMemoryBytes, multipleOf: mebibyte }),
    cpu,
    osType: fields.nested('os')?.text('type', { max: 64, pattern: /^[A-Za-z0-9_]+$/, patternHint: 'must be an oVirt operating system name such as other or rhel_9x64' }),
    displayType: fields.nested('display')?.oneOf('type', ['vnc', 'spice'] as const),
    cluster: fields.reference('cluster', { required: creating }),
  };
}

/** Reads `search=name=VALUE` (the only search this version understands; wildcards with *). */
function nameSearch(ctx: ApiContext): string | undefined {
  const search = ctx.query.search;
  if (search === undefined || search === '') return undefined;
  const match = typeof search === 'string' ? /^\s*name\s*=\s*"?([^"\s]+)"?\s*$/i.exec(search) : null;
  if (!match) throw invalid(`search "${String(search)}" is not understood; this version supports name=VALUE, with * as a wildcard`);
  return match[1];
}

function isAsync(ctx: ApiContext, body: Fields): boolean {
  return queryFlag(ctx, 'async') ?? body.boolean('async') ?? false;
}

export function vmRoutes(router: Router<ApiState>, vms: VmService, tasks: TaskService): void {
  router.get('/vms', async (ctx) => {
    const views = await vms.list({ name: nameSearch(ctx) });
    respondList(ctx, 'vms', 'vm', views.map((view) => ctx.state.present.vm(view)));
  });
  router.post('/vms', async (ctx) => {
    const input = vmInput(await documentOf(ctx, 'vm'), true);
    const view = await vms.create({ ...input, name: input.name!, memoryBytes: input.memoryBytes!, cluster: input.cluster! });
    ctx.set('Location', ctx.state.present.href('vms', view.vm.id));
    respond(ctx, 201, 'vm', ctx.state.present.vm(view));
  });
  router.get('/vms/:id', async (ctx) => {
    respond(ctx, 200, 'vm', ctx.state.present.vm(await vms.get(ctx.params.id!)));
  });
  router.put('/vms/:id', async (ctx) => {
    const input = vmInput(await documentOf(ctx, 'vm'), false);
    respond(ctx, 200, 'vm', ctx.state.present.vm(await vms.update(ctx.params.id!, input)));
  });
  router.delete('/vms/:id', async (ctx) => {
    const task = await vms.requestAction(ctx.params.id!, 'remove', ctx.state.correlationId);
    await answerWithTask(ctx, tasks, task, queryFlag(ctx, 'async') ?? false);
  });
  router.get('/vms/:id/tasks', async (ctx) => {
    respondList(ctx, 'tasks', 'task', (await tasks.listForVm(ctx.params.id!)).map((task) => ctx.state.present.task(task)));
  });
  router.post('/vms/:id/tasks', async (ctx) => {
    const action = (await documentOf(ctx, 'task')).oneOf('action', vmActions, { required: true })!;
    const task = await vms.requestAction(ctx.params.id!, action, ctx.state.correlationId);
    ctx.set('Location', ctx.state.present.href('tasks', task.id));
    respond(ctx, 201, 'task', ctx.state.present.task(task));
  });
  router.post('/vms/:id/:action', async (ctx) => {
    const action = ctx.params.action as VmAction;
    if (!apiVmActions.includes(action)) {
      throw notFound('action', `${ctx.params.action} (VM actions are ${apiVmActions.join(', ')})`);
    }
    const body = await optionalDocumentOf(ctx, 'action');
    const asynchronous = isAsync(ctx, body);
    const task = await vms.requestAction(ctx.params.id!, action, ctx.state.correlationId);
    await answerWithTask(ctx, tasks, task, asynchronous);
  });
}
