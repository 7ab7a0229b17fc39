import type { Orm } from '../db/orm.js';
import type { Task } from '../db/entities.js';
import { selectRows } from '../db/store.js';
import type { Records } from '../state/records.js';
import type { AuthorizationService } from './authorization.js';
import type { EventLog, LoggedEvent } from '../state/event-log.js';
import { conflict, invalid, notFound } from '../rules/errors.js';
import { actionLabel, eventOf, eventSeverities, isEventId, failureCodes, finishedStatuses, objectCodes, objectEvent, type EventInput, type EventLinks, type EventObjectType, type EventSeverity } from '../rules/events.js';
import { runStatement } from '../db/store.js';

/** What an event says of an object: its id and name, and the ids (and names) of what it belongs to, for the event's links. */
export interface Subject {
  id: string;
  name: string;
  hostName: string | null;
  links: EventLinks;
}

/** Where each kind of object's name and links are read, for those kept in tables. */
export const subjectQueries: Partial<Record<EventObjectType, { sql: string; links: (row: Record<string, string | null>) => Subject['links'] }>> = {
  cluster: { sql: 'select name, id, data_center_id from clusters where id = ?', links: (row) => ({ clusterId: row.id, dataCenterId: row.data_center_id }) },
  data_center: { sql: 'select name, id from data_centers where id = ?', links: (row) => ({ dataCenterId: row.id }) },
  storage_domain: { sql: 'select name, id, data_center_id from storage_domains where id = ?', links: (row) => ({ storageDomainId: row.id, dataCenterId: row.data_center_id }) },
  disk: { sql: 'select name, storage_domain_id from disks where id = ?', links: (row) => ({ storageDomainId: row.storage_domain_id }) },
  disk_attachment: { sql: 'select d.name as name, a.vm_id as vm_id, a.template_id as template_id from disk_attachments a join disks d on d.id = a.disk_id where a.id = ?', links: (row) => ({ vmId: row.vm_id, templateId: row.template_id }) },
  network: { sql: 'select name, data_center_id from networks where id = ?', links: (row) => ({ dataCenterId: row.data_center_id }) },
  vnic_profile: { sql: 'select name from vnic_profiles where id = ?', links: () => ({}) },
  nic: { sql: 'select name, vm_id, template_id from nics where id = ?', links: (row) => ({ vmId: row.vm_id, templateId: row.template_id }) },
  mac_pool: { sql: 'select name from mac_pools where id = ?', links: () => ({}) },
  template: { sql: 'select name, id, cluster_id from templates where id = ?', links: (row) => ({ templateId: row.id, clusterId: row.cluster_id }) },
  vm_pool: { sql: 'select name, cluster_id from vm_pools where id = ?', links: (row) => ({ clusterId: row.cluster_id }) },
  user: { sql: 'select name from users where id = ?', links: () => ({}) },
  group: { sql: 'select name from user_groups where id = ?', links: () => ({}) },
  tag: { sql: 'select name from tags where id = ?', links: () => ({}) },
  storage_domain_attachment: { sql: 'select name, id, data_center_id from storage_domains where id = ?', links: (row) => ({ storageDomainId: row.id, dataCenterId: row.data_center_id }) },
  tag_assignment: { sql: 'select name from tags where id = ?', links: () => ({}) },
};

/** The most removals whose end is awaited with the names they had; beyond it, the oldest is recorded with its id only. */
const maxPendingRemovals = 10_000;

/** A request to add an external event, as `POST /events` gives it. */
export interface ExternalEvent {
  description: string;
  severity: EventSeverity;
  origin: string;
  customId: number;
  code?: number;
  correlationId?: string | null;
  links: Subject['links'];
}

/**
 * The audit log's service: names the objects events are about, records the
 * outcome of tasks (their failures, and removals that ran as tasks), and
 * adds and removes events for the API.
 */
export class EventService {
  private readonly pendingRemovals = new Map<string, { object: EventObjectType; subject: Subject; who: { userId: string | null; userName: string | null; correlationId: string } }>();

  constructor(
    private readonly log: EventLog,
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly authorization: AuthorizationService,
  ) {}

  record(input: EventInput): LoggedEvent {
    return this.log.record(input);
  }

  settled(): Promise<void> {
    return this.log.settled();
  }

  get lastWrittenId(): number {
    return this.log.lastWrittenId;
  }

  get lastPrunedId(): number {
    return this.log.lastPrunedId;
  }

  subscribe(listener: (events: readonly LoggedEvent[]) => void): () => void {
    return this.log.subscribe(listener);
  }

  readAfter(afterId: number, limit: number): Promise<LoggedEvent[]> {
    return this.log.readAfter(afterId, limit);
  }

  /** The events of the batch the user may see, by the same rules as the event collection (see services/authorization.ts). */
  async visibleTo(userId: string, events: readonly LoggedEvent[]): Promise<LoggedEvent[]> {
    const condition = await this.authorization.condition(userId, 'event');
    if (!condition) return [...events];
    const rows = await selectRows<{ id: number | string }>(this.orm, `select t.id from events t where t.id in (${events.map(() => '?').join(', ')}) and ${condition.text}`, [...events.map((event) => event.id), ...condition.params]);
    const seen = new Set(rows.map((row) => Number(row.id)));
    return events.filter((event) => seen.has(event.id));
  }

  label(object: EventObjectType): string {
    return objectCodes[object].label;
  }

  /** The object's name and links as they are now; an object that is gone is named by its id. */
  async subject(object: EventObjectType, id: string): Promise<Subject> {
    if (object === 'vm') {
      const vm = this.records.vm(id);
      const hostName = this.records.host(vm?.hostId ?? null)?.name ?? null;
      return { id, name: vm?.name ?? id, hostName, links: { vmId: id, vmName: vm?.name ?? null, hostId: vm?.hostId ?? null, hostName, clusterId: vm?.clusterId ?? null } };
    }
    if (object === 'host') {
      const host = this.records.host(id);
      return { id, name: host?.name ?? id, hostName: host?.name ?? null, links: { hostId: id, hostName: host?.name ?? null, clusterId: host?.clusterId ?? null } };
    }
    const query = subjectQueries[object];
    if (!query) return { id, name: id, hostName: null, links: {} };
    const [row] = await selectRows<Record<string, string | null>>(this.orm, query.sql, [id]).catch(() => []);
    if (!row) return { id, name: id, hostName: null, links: {} };
    return { id, name: row.name ?? id, hostName: null, links: query.links(row) };
  }

  /** A removal that runs as a task: its end records the object's removal, or its failure, with the names it had when it was asked for. */
  removalPending(taskId: string, object: EventObjectType, subject: Subject, who: { userId: string | null; userName: string | null; correlationId: string }): void {
    if (this.pendingRemovals.size >= maxPendingRemovals) this.pendingRemovals.delete(this.pendingRemovals.keys().next().value!);
    this.pendingRemovals.set(taskId, { object, subject, who });
  }

  /** Records what a task's end says: a removal asked for by a request, or any failure. */
  taskEnded(task: Readonly<Task>): void {
    const removal = this.pendingRemovals.get(task.id);
    this.pendingRemovals.delete(task.id);
    if (removal && task.state === 'finished') {
      const { object, subject, who } = removal;
      this.record(objectEvent('object_deleted', object, { user: who.userName, name: subject.name }, { ...who, ...subject.links, objectId: subject.id }));
      return;
    }
    const object = taskObjectTypes[task.objectType];
    const finished = finishedStatuses[`${task.objectType}:${task.action}`];
    if (finished && task.state === 'finished') {
      void this.subject(object, task.objectId).then((subject) =>
        this.record({
          ...eventOf('task_finished', { action: actionLabel(task.action), object: this.label(object), name: subject.name }, { ...subject.links, objectType: object, objectId: task.objectId, correlationId: task.correlationId, change: 'status', status: finished.status }),
          code: finished.code,
        }),
      );
      return;
    }
    if (task.state !== 'failed') return;
    void this.subject(object, task.objectId)
      .then((subject) => {
        const name = removal?.subject.name ?? subject.name;
        const input = eventOf('task_failed', { action: actionLabel(task.action), object: this.label(object), name, detail: task.errorDetail ?? task.errorReason ?? 'no reason given' }, {
          ...(removal?.subject.links ?? subject.links),
          objectType: object,
          objectId: task.objectId,
          correlationId: task.correlationId,
          userId: removal?.who.userId ?? null,
          userName: removal?.who.userName ?? null,
        });
        this.record({ ...input, code: failureCodes[`${task.objectType}:${task.action}`] ?? input.code });
      })
      .catch(() => undefined);
  }

  /** Adds an external event; an origin's custom id is taken once (409 for a second event with it). */
  async addExternal(request: ExternalEvent, who: { userId: string | null; userName: string | null }): Promise<LoggedEvent> {
    if (request.origin === 'drover') throw invalid('origin "drover" is Drover\'s own; an external event names its own origin');
    const [taken] = await selectRows<{ id: number }>(this.orm, 'select id from events where origin = ? and custom_id = ?', [request.origin, request.customId]);
    if (taken) throw conflict(`an event of origin "${request.origin}" with custom_id ${request.customId} already exists`);
    const event = this.record({
      kind: 'external',
      code: request.code ?? 0,
      severity: request.severity,
      description: request.description,
      origin: request.origin,
      customId: request.customId,
      correlationId: request.correlationId ?? null,
      ...request.links,
      ...who,
    });
    await this.log.settled();
    return event;
  }

  /** Removes an event from the log, as oVirt's `DELETE /events/{id}`. */
  async remove(id: string): Promise<void> {
    if (!isEventId(id)) throw notFound('event', id);
    await this.log.settled();
    const [found] = await selectRows<{ id: number }>(this.orm, 'select id from events where id = ?', [Number(id)]);
    if (!found) throw notFound('event', id);
    await runStatement(this.orm, 'delete from events where id = ?', [Number(id)]);
  }
}

export function isSeverity(value: string): value is EventSeverity {
  return (eventSeverities as readonly string[]).includes(value);
}

const taskObjectTypes: Record<Task['objectType'], EventObjectType> = {
  vm: 'vm',
  disk: 'disk',
  storage_domain: 'storage_domain',
  template: 'template',
  vm_pool: 'vm_pool',
  host: 'host',
};


