import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { invalid } from '../../rules/errors.js';
import { endedJobStatuses, stepTypes, type EndedJobStatus } from '../../rules/jobs.js';
import { respond, respondList, type ApiContext } from '../context.js';
import { documentOf, optionalDocumentOf } from '../input/request.js';
import type { Fields } from '../input/fields.js';
import type { FieldRule, FieldTable } from '../input/vm-fields.js';
import { followable } from './steps.js';

const read: FieldRule = { kind: 'read' };
const identity: FieldRule = { kind: 'identity' };
const only = (value: string): FieldRule => ({ kind: 'default', expected: value, accepts: (given) => given === value });

/** What a new external job accepts; oVirt's SDKs send `external` true and `status` started with it (Ansible's ovirt_job does). */
const jobFields: FieldTable = { id: identity, href: identity, description: read, auto_cleared: read, external: only('true'), status: only('started') };
/** What a new step of an external job accepts; Ansible's ovirt_job also names the step's job. */
const stepFields: FieldTable = { id: identity, href: identity, description: read, type: read, external: only('true'), status: only('started'), job: read };
/** What `end` of a job or a step accepts. */
const endFields: FieldTable = { status: read, succeeded: read, force: read, async: read };
const clearFields: FieldTable = { async: read };

/** The status an `end` asks for: `status` as given, else `succeeded` (true: finished, false: failed), else finished. */
function endStatus(body: Fields): EndedJobStatus {
  const status = body.oneOf('status', endedJobStatuses);
  const succeeded = body.boolean('succeeded');
  if (status !== undefined && succeeded !== undefined && (status === 'finished') !== succeeded) {
    throw invalid(`action.status ${status} contradicts action.succeeded ${succeeded}`);
  }
  return status ?? (succeeded === false ? 'failed' : 'finished');
}

function description(body: Fields): string {
  const text = body.text('description', { required: true, max: 4000 })!.trim();
  if (!text) throw invalid(`${body.where}.description must not be empty`);
  return text;
}

export function jobRoutes(router: ApiRouter, services: Services): void {
  const { jobs } = services;
  const present = (ctx: ApiContext) => ctx.state.present;

  router.get('/jobs/:id', followable(services, 'job'), async (ctx) => {
    respond(ctx, 200, 'job', present(ctx).job(await jobs.get(ctx.params.id!)));
  });
  router.post('/jobs', async (ctx) => {
    const body = await documentOf(ctx, 'job', jobFields);
    const job = await jobs.addExternal({
      description: description(body),
      autoCleared: body.boolean('auto_cleared') ?? true,
      correlationId: ctx.state.correlationId,
      ownerId: ctx.state.principal?.userId ?? null,
    });
    ctx.set('Location', `${ctx.state.base}/jobs/${job.job.id}`);
    respond(ctx, 201, 'job', present(ctx).job(job));
  });
  router.post('/jobs/:id/end', async (ctx) => {
    const body = await optionalDocumentOf(ctx, 'action', endFields);
    const job = await jobs.end(ctx.params.id!, { status: endStatus(body), force: body.boolean('force') ?? false });
    respond(ctx, 200, 'action', { status: 'complete', job: present(ctx).job(job) });
  });
  router.post('/jobs/:id/clear', async (ctx) => {
    await optionalDocumentOf(ctx, 'action', clearFields);
    const job = await jobs.clear(ctx.params.id!);
    respond(ctx, 200, 'action', { status: 'complete', job: present(ctx).job(job) });
  });

  router.get('/jobs/:id/steps', async (ctx) => {
    const steps = await jobs.steps(ctx.params.id!);
    respondList(ctx, 'steps', 'step', steps.map((step) => present(ctx).step(step)));
  });
  router.get('/jobs/:id/steps/:step', async (ctx) => {
    respond(ctx, 200, 'step', present(ctx).step(await jobs.step(ctx.params.id!, ctx.params.step!)));
  });
  router.post('/jobs/:id/steps', async (ctx) => {
    const body = await documentOf(ctx, 'step', stepFields);
    const named = body.reference('job');
    if (named?.id !== undefined && named.id !== ctx.params.id) throw invalid(`step.job names job ${named.id}, not the job of this URL (${ctx.params.id})`);
    const step = await jobs.addStep(ctx.params.id!, { description: description(body), type: body.oneOf('type', stepTypes) ?? 'executing' });
    ctx.set('Location', `${ctx.state.base}/jobs/${ctx.params.id}/steps/${step.id}`);
    respond(ctx, 201, 'step', present(ctx).step(step));
  });
  router.post('/jobs/:id/steps/:step/end', async (ctx) => {
    const body = await optionalDocumentOf(ctx, 'action', endFields);
    const step = await jobs.endStep(ctx.params.id!, ctx.params.step!, endStatus(body));
    respond(ctx, 200, 'action', { status: 'complete', step: present(ctx).step(step) });
  });
}
