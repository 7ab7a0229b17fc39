import type { Next } from 'koa';
import type { ApiContext } from './context.js';
import type { Task } from '../db/entities.js';
import type { RouteStep } from './routing.js';
import type { EventService, Subject } from '../services/events.js';
import { actionLabel, eventOf, objectEvent, type EventKind, type EventObjectType } from '../rules/events.js';
import { topLevel } from './collections.js';

/**
 * What a write route records in the audit log once it succeeded:
 * - `create`: the object it created (its id is the last segment of the answer's Location, or `idFrom` of the answer);
 * - `update`, `delete`: the object whose id is the route's `param`;
 * - `action`: a request to act on the object whose id is `param`, with the event of the action;
 * - `none`: nothing, because the route's change is recorded where it happens (external events) or it changes nothing (a console ticket).
 * A removal that runs as a task is recorded when its task ends (services/events.ts), with the names read here.
 */
export type AuditRule =
  | { kind: 'create'; object: EventObjectType; parent?: Parent }
  | { kind: 'update' | 'delete'; object: EventObjectType; param: string; parent?: Parent }
  | { kind: 'action'; object: EventObjectType; param: string; event: EventKind; action: string }
  | { kind: 'none' };

/** The object a route's path names above the one it changes (`/vms/:id/nics`: the VM). */
interface Parent {
  object: EventObjectType;
  param: string;
}

/**
 * The object kind of each URL segment: the top-level collections' resources
 * (api/collections.ts), and the collections whose objects are not resources
 * the query catalog lists.
 */
const segments: ReadonlyMap<string, EventObjectType> = new Map<string, EventObjectType>([
  ...(topLevel satisfies ReadonlyMap<string, EventObjectType>),
  ...Object.entries({
    diskattachments: 'disk_attachment',
    nics: 'nic',
    users: 'user',
    groups: 'group',
    permissions: 'permission',
    hostenrollmenttokens: 'host_enrollment_token',
    cdroms: 'cdrom',
    events: 'event',
    tags: 'tag',
    steps: 'step',
  } satisfies Record<string, EventObjectType>),
]);

/**
 * Collections below an object whose members are of another kind there than
 * at the top level, by owner and collection (`*` for any owner): a VM's tags
 * are assignments of tags, a data center's storage domains attachments.
 */
const subSegments: ReadonlyMap<string, EventObjectType> = new Map(
  Object.entries({ '*/tags': 'tag_assignment', 'datacenters/storagedomains': 'storage_domain_attachment' } satisfies Record<string, EventObjectType>),
);

const subObjectOf = (top: string, segment: string) => subSegments.get(`${top}/${segment}`) ?? subSegments.get(`*/${segment}`) ?? segments.get(segment);

/** The events of actions that have one of their own; any other action records `action_requested`. */
const actionEvents: ReadonlyMap<string, EventKind> = new Map(
  Object.entries({
    'vms:start': 'vm_start_requested',
    'vms:stop': 'vm_stop_requested',
    'vms:shutdown': 'vm_shutdown_requested',
    'vms:suspend': 'vm_suspend_requested',
    'vms:resume': 'vm_resume_requested',
    'vms:reboot': 'vm_reboot_requested',
    'vms:reset': 'vm_reset_requested',
    'vms:migrate': 'vm_migration_requested',
    'vms:cancelmigration': 'vm_migration_cancel_requested',
    'hosts:deactivate': 'host_maintenance_requested',
    'hosts:activate': 'host_activated',
    'hosts:fence': 'host_fenced',
  } satisfies Record<string, EventKind>),
);

/** Write routes that record nothing here. */
const recordsNothing = new Set([
  'POST /events',
  'DELETE /events/:id',
  'POST /vms/:id/graphicsconsoles/:console/ticket',
  'POST /vms/:id/graphicsconsoles/:console/remoteviewerconnectionfile',
  'DELETE /tasks/:id',
]);

/** The audit rule of a write route, from the shape of its path; a write route whose shape says nothing is a programming error, found when it is registered. */
export function auditRuleOf(method: string, path: string): AuditRule {
  const key = `${method.toUpperCase()} ${path}`;
  if (recordsNothing.has(key)) return { kind: 'none' };
  const parts = path.split('/').slice(1);
  const [top, id, sub, subId, more] = parts;
  const topObject = segments.get(top ?? '');
  const fail = () => new Error(`${key} has no audit rule (api/audit.ts)`);
  if (!topObject) throw fail();
  const idParam = id?.slice(1);
  if (method === 'post' && parts.length === 1) return { kind: 'create', object: topObject };
  if ((method === 'put' || method === 'delete') && parts.length === 2) return { kind: method === 'put' ? 'update' : 'delete', object: topObject, param: idParam! };
  if (method === 'post' && parts.length === 3 && sub !== undefined) {
    const subObject = subObjectOf(top!, sub);
    if (subObject) return { kind: 'create', object: subObject, parent: { object: topObject, param: idParam! } };
    return { kind: 'action', object: topObject, param: idParam!, event: actionEvents.get(`${top}:${sub}`) ?? 'action_requested', action: sub };
  }
  if ((method === 'put' || method === 'delete') && parts.length === 4 && sub !== undefined && subId !== undefined) {
    const subObject = subObjectOf(top!, sub);
    if (!subObject) throw fail();
    return { kind: method === 'put' ? 'update' : 'delete', object: subObject, param: subId.slice(1), parent: { object: topObject, param: idParam! } };
  }
  const subObject = segments.get(sub ?? '');
  if (method === 'post' && parts.length === 5 && subObject && more !== undefined) {
    return { kind: 'action', object: subObject, param: subId!.slice(1), event: 'action_requested', action: more };
  }
  throw fail();
}


/** The step that records a write route's event in the audit log once the route succeeded. */
export function audited(events: EventService, method: string, path: string): RouteStep | undefined {
  if (method === 'get') return undefined;
  const rule = auditRuleOf(method, path);
  if (rule.kind === 'none') return undefined;
  return async (ctx: ApiContext, next: Next) => {
    const before = rule.kind === 'create' ? undefined : await events.subject(rule.object, ctx.params[rule.param]!);
    const parent = rule.kind !== 'action' && rule.parent ? await events.subject(rule.parent.object, ctx.params[rule.parent.param]!) : undefined;
    const who = () => ({ userId: ctx.state.principal?.userId ?? null, userName: ctx.state.principal?.name ?? null, correlationId: ctx.state.correlationId });
    let recorded = false;
    const requested = (task?: Task) => {
      if (recorded) return;
      recorded = true;
      if (rule.kind === 'action') {
        events.record(eventOf(rule.event, { user: who().userName, vm: before!.name, host: before!.hostName, object: events.label(rule.object), name: before!.name, action: actionLabel(rule.action) }, { ...who(), ...links(before!), objectId: before!.id }));
      } else if (rule.kind === 'delete' && task) {
        events.removalPending(task.id, rule.object, before!, who());
        events.record(objectEvent('object_removal_requested', rule.object, { user: who().userName, name: before!.name }, { ...who(), ...links(parent), ...links(before!), objectId: before!.id }));
      }
    };
    if (rule.kind === 'action' || rule.kind === 'delete') ctx.state.taskSubmitted = requested;
    await next();
    if (ctx.status >= 300) return;
    if (rule.kind === 'action') return requested();
    if (rule.kind === 'delete' && ctx.state.task) return;
    const subject = rule.kind === 'create' ? await createdSubject(events, rule.object, ctx) : before;
    if (!subject) return;
    const kind = rule.kind === 'create' ? 'object_created' : rule.kind === 'update' ? 'object_updated' : 'object_deleted';
    events.record(objectEvent(kind, rule.object, { user: who().userName, name: subject.name }, { ...who(), ...links(parent), ...links(subject), objectId: subject.id }));
  };
}

async function createdSubject(events: EventService, object: EventObjectType, ctx: ApiContext): Promise<Subject | undefined> {
  const location = ctx.response.get('Location');
  if (!location) return undefined;
  return events.subject(object, location.slice(location.lastIndexOf('/') + 1));
}

/** The ids of the VM, host, cluster and data center an event about the subject links to. */
function links(subject: Subject | undefined): Partial<Subject['links']> {
  return subject?.links ?? {};
}
