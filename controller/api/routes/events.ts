import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import { respond, type ApiContext } from '../context.js';
import { documentOf, querySingle } from '../input/request.js';
import { invalid, notFound } from '../../rules/errors.js';
import { eventObjectTypes, eventSeverities, isEventId } from '../../rules/events.js';
import { isSeverity } from '../../services/events.js';
import { respondCollection, visibleToOf } from './collections.js';
import { followable, ifMatch } from './steps.js';
import type { EventStreams } from '../event-stream.js';
import type { AuditEvent } from '../../db/entities.js';
import type { RouteStep } from '../routing.js';

/** An event's id is a whole number: any other is no event, and never reaches a query as one. */
const eventIdStep: RouteStep = async (ctx, next) => {
  if (!isEventId(ctx.params.id!)) throw notFound('event', ctx.params.id!.slice(0, 64));
  return next();
};

const idPattern = /^[0-9a-fA-F-]{1,64}$/;

/** Whether the client asked for the event stream rather than a document. */
function wantsStream(ctx: ApiContext): boolean {
  return ctx.get('Accept').toLowerCase().includes('text/event-stream');
}

function fromOf(ctx: ApiContext): number | undefined {
  const from = querySingle(ctx, 'from');
  if (from === undefined) return undefined;
  if (!isEventId(from)) throw invalid(`query parameter from must be an event id (a whole number), not "${from.slice(0, 40)}"`);
  return Number(from);
}

/** A comma-separated list of names from `allowed` (or ids), or undefined when the parameter is not given. */
function listParameter(ctx: ApiContext, name: string, allowed?: readonly string[]): ReadonlySet<string> | undefined {
  const text = querySingle(ctx, name);
  if (text === undefined) return undefined;
  const values = text.split(',').map((value) => value.trim()).filter(Boolean);
  if (values.length === 0 || values.length > 100) throw invalid(`query parameter ${name} takes 1 to 100 comma-separated values`);
  for (const value of values) {
    if (allowed ? !allowed.includes(value) : !idPattern.test(value)) throw invalid(`query parameter ${name}: "${value.slice(0, 64)}" is not ${allowed ? `one of ${allowed.join(', ')}` : 'an id'}`);
  }
  return new Set(values);
}

export function eventRoutes(router: ApiRouter, services: Services, streams: EventStreams): void {
  const { events } = services;
  router.get('/events', async (ctx) => {
    if (wantsStream(ctx)) {
      const visibleTo = visibleToOf(ctx);
      const afterId = streams.resumePoint(ctx, querySingle(ctx, 'from'));
      streams.open(ctx, {
        afterId,
        objectTypes: listParameter(ctx, 'object_type', eventObjectTypes),
        objectIds: listParameter(ctx, 'object_id'),
        visible: visibleTo === undefined ? undefined : (batch) => events.visibleTo(visibleTo, batch),
      });
      return;
    }
    const from = fromOf(ctx);
    await events.settled();
    await respondCollection(ctx, services, 'event', from === undefined ? undefined : { text: 't.id > ?', params: [from] });
  });
  router.get('/events/:id', eventIdStep, async (_ctx, next) => events.settled().then(next), followable(services, 'event'), async (ctx) => {
    const id = ctx.params.id!;
    const loaded = await services.queries.load('event', [id], undefined, undefined, visibleToOf(ctx));
    if (!loaded.views.has(id)) throw notFound('event', id);
    respond(ctx, 200, 'event', ctx.state.present.event(loaded.views.get(id) as AuditEvent));
  });
  router.post('/events', async (ctx) => {
    const fields = await documentOf(ctx, 'event');
    const severity = fields.text('severity', { required: true, max: 16 })!;
    if (!isSeverity(severity)) throw invalid(`event severity must be one of ${eventSeverities.join(', ')}, not "${severity.slice(0, 32)}"`);
    const reference = (name: string) => {
      const id = fields.nested(name)?.text('id', { max: 64 });
      if (id !== undefined && !idPattern.test(id)) throw invalid(`event ${name} id "${id}" is not an id`);
      return id ?? null;
    };
    const event = await events.addExternal(
      {
        description: fields.text('description', { required: true, max: 4000 })!,
        severity,
        origin: fields.text('origin', { required: true, max: 255 })!,
        customId: fields.integer('custom_id', { required: true, min: -2_147_483_648, max: 2_147_483_647 })!,
        code: fields.integer('code', { min: 0, max: 2_147_483_647 }),
        correlationId: ctx.state.correlationId,
        links: {
          vmId: reference('vm'),
          hostId: reference('host'),
          clusterId: reference('cluster'),
          dataCenterId: reference('data_center'),
          storageDomainId: reference('storage_domain'),
          templateId: reference('template'),
        },
      },
      { userId: ctx.state.principal?.userId ?? null, userName: ctx.state.principal?.name ?? null },
    );
    ctx.set('Location', ctx.state.present.href('events', String(event.id)));
    respond(ctx, 201, 'event', ctx.state.present.event(event));
  });
  router.delete('/events/:id', eventIdStep, async (_ctx, next) => events.settled().then(next), ifMatch(services, 'event'), async (ctx) => {
    await events.remove(ctx.params.id!);
    respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));
  });
}
