import type { PowerState } from '../../shared/model.js';
import type { HostAdminState, HostStatus } from './states.js';
import { presentedHostStatus } from './host-admin.js';

/** How much an event matters, oVirt's `LogSeverity`. */
export const eventSeverities = ['normal', 'warning', 'error', 'alert'] as const;
export type EventSeverity = (typeof eventSeverities)[number];

/**
 * What an event says happened to the object it is about, for clients that
 * follow the fleet from the event stream instead of polling: it was created,
 * its settings changed, it was removed, or its status changed. Events about
 * something else (a login, a request to act, a failure) have no change.
 */
export const objectChanges = ['created', 'updated', 'deleted', 'status'] as const;
export type ObjectChange = (typeof objectChanges)[number];

/** The kinds of objects events are about. */
export const eventObjectTypes = [
  'vm',
  'host',
  'cluster',
  'data_center',
  'storage_domain',
  'disk',
  'disk_attachment',
  'network',
  'vnic_profile',
  'nic',
  'mac_pool',
  'template',
  'vm_pool',
  'user',
  'group',
  'permission',
  'host_enrollment_token',
  'cdrom',
  'task',
  'event',
  'tag',
  'tag_assignment',
  'storage_domain_attachment',
  'job',
  'step',
] as const;
export type EventObjectType = (typeof eventObjectTypes)[number];

/** How an object kind is named in descriptions, and oVirt's audit log codes for its creation, change and removal by a user. */
interface ObjectCodes {
  label: string;
  created: number;
  updated: number;
  deleted: number;
}

/**
 * oVirt's audit log codes (its AuditLogType) where oVirt has one; Drover's
 * own codes, for what oVirt does not log, are from 100000 up, a range oVirt
 * does not use.
 */
export const objectCodes: Record<EventObjectType, ObjectCodes> = {
  vm: { label: 'VM', created: 34, updated: 35, deleted: 113 },
  host: { label: 'Host', created: 42, updated: 43, deleted: 44 },
  cluster: { label: 'Cluster', created: 809, updated: 811, deleted: 813 },
  data_center: { label: 'Data Center', created: 950, updated: 952, deleted: 954 },
  storage_domain: { label: 'Storage Domain', created: 956, updated: 958, deleted: 960 },
  disk: { label: 'Disk', created: 2020, updated: 88, deleted: 2014 },
  disk_attachment: { label: 'Disk', created: 2016, updated: 88, deleted: 2018 },
  network: { label: 'Network', created: 942, updated: 1114, deleted: 944 },
  vnic_profile: { label: 'vNIC profile', created: 1122, updated: 1124, deleted: 1126 },
  nic: { label: 'Interface', created: 932, updated: 934, deleted: 930 },
  mac_pool: { label: 'MAC pool', created: 100_001, updated: 100_002, deleted: 100_003 },
  template: { label: 'Template', created: 48, updated: 49, deleted: 251 },
  vm_pool: { label: 'VM Pool', created: 300, updated: 314, deleted: 304 },
  user: { label: 'User', created: 149, updated: 100_004, deleted: 325 },
  group: { label: 'Group', created: 100_005, updated: 100_006, deleted: 408 },
  permission: { label: 'Permission', created: 850, updated: 100_007, deleted: 852 },
  host_enrollment_token: { label: 'Host enrollment token', created: 100_008, updated: 100_009, deleted: 100_010 },
  cdrom: { label: 'CD-ROM', created: 100_011, updated: 38, deleted: 100_012 },
  task: { label: 'Task', created: 100_013, updated: 100_014, deleted: 100_015 },
  event: { label: 'Event', created: 100_016, updated: 100_017, deleted: 100_018 },
  tag: { label: 'Tag', created: 432, updated: 430, deleted: 434 },
  tag_assignment: { label: 'Tag', created: 440, updated: 100_019, deleted: 446 },
  storage_domain_attachment: { label: 'Storage Domain', created: 962, updated: 100_026, deleted: 964 },
  job: { label: 'Job', created: 100_020, updated: 100_021, deleted: 100_022 },
  step: { label: 'Step', created: 100_023, updated: 100_024, deleted: 100_025 },
};

/**
 * Every kind of event Drover records itself, with its oVirt code (or
 * Drover's own, from 100000 up), severity, and what it says: `{name}`
 * placeholders take the event's named objects and facts.
 */
export const eventKinds = {
  controller_started: { code: 1, severity: 'normal', text: 'Starting the Drover controller.' },
  user_logged_in: { code: 30, severity: 'normal', text: 'User {user} logged in.' },
  user_login_failed: { code: 114, severity: 'warning', text: 'User {user} failed to log in from {address}.' },
  object_created: { code: 0, severity: 'normal', text: '{object} {name} was created by {user}.' },
  object_updated: { code: 0, severity: 'normal', text: '{object} {name} was updated by {user}.' },
  object_deleted: { code: 0, severity: 'normal', text: '{object} {name} was removed by {user}.' },
  object_removal_requested: { code: 0, severity: 'normal', text: 'Removal of {object} {name} was initiated by {user}.' },
  action_requested: { code: 100_100, severity: 'normal', text: '{action} of {object} {name} was initiated by {user}.' },
  vm_start_requested: { code: 150, severity: 'normal', text: 'Starting VM {vm} was initiated by {user}.' },
  vm_stop_requested: { code: 33, severity: 'normal', text: 'VM {vm} powered off by {user}.' },
  vm_shutdown_requested: { code: 73, severity: 'normal', text: 'VM shutdown initiated by {user} on VM {vm}.' },
  vm_suspend_requested: { code: 501, severity: 'normal', text: 'Suspending VM {vm} was initiated by {user}.' },
  vm_resume_requested: { code: 40, severity: 'normal', text: 'VM {vm} was resumed by {user}.' },
  vm_reboot_requested: { code: 157, severity: 'normal', text: 'VM {vm} is rebooting, as {user} asked.' },
  vm_reset_requested: { code: 100_101, severity: 'normal', text: 'VM {vm} was reset by {user}.' },
  vm_migration_requested: { code: 62, severity: 'normal', text: 'Migration started (VM: {vm}, Source: {host}, User: {user}).' },
  vm_migration_cancel_requested: { code: 161, severity: 'normal', text: 'Migration of VM {vm} was cancelled by {user}.' },
  vm_migrated: { code: 63, severity: 'normal', text: 'Migration completed (VM: {vm}, Destination: {host}).' },
  vm_up: { code: 32, severity: 'normal', text: 'VM {vm} started on Host {host}.' },
  vm_down: { code: 61, severity: 'normal', text: 'VM {vm} is down.' },
  vm_paused: { code: 1025, severity: 'normal', text: 'VM {vm} has been paused.' },
  vm_suspended: { code: 512, severity: 'normal', text: 'Suspending VM {vm} has been completed.' },
  vm_crashed: { code: 119, severity: 'error', text: 'VM {vm} is down with error: its guest crashed.' },
  vm_unknown: { code: 142, severity: 'warning', text: 'VM {vm} was set to the Unknown status.' },
  vm_on_two_hosts: { code: 100_102, severity: 'alert', text: 'VM {vm} is active on two hosts, {host} and {other}.' },
  host_status: { code: 13, severity: 'normal', text: 'Status of host {host} was set to {status}.' },
  host_non_responsive: { code: 12, severity: 'error', text: 'Host {host} is non responsive.' },
  host_non_operational: { code: 517, severity: 'error', text: 'Host {host} moved to Non-Operational state: {detail}' },
  host_maintenance_requested: { code: 600, severity: 'normal', text: 'Host {host} was switched to Maintenance mode by {user}.' },
  host_maintenance: { code: 15, severity: 'normal', text: 'Host {host} was switched to Maintenance Mode.' },
  host_activated: { code: 16, severity: 'normal', text: 'Host {host} was activated by {user}.' },
  host_fenced: { code: 494, severity: 'warning', text: 'Manual fence for host {host} was confirmed by {user}.' },
  task_failed: { code: 100_103, severity: 'error', text: '{action} of {object} {name} failed: {detail}' },
  task_finished: { code: 100_104, severity: 'normal', text: '{action} of {object} {name} has been completed.' },
} as const satisfies Record<string, { code: number; severity: EventSeverity; text: string }>;
export type EventKind = keyof typeof eventKinds;

/** The oVirt code of a task's failure, by its object and action, where oVirt has one. */
export const failureCodes: Readonly<Record<string, number>> = {
  'vm:start': 54,
  'vm:resume': 103,
  'vm:stop': 56,
  'vm:shutdown': 74,
  'vm:suspend': 502,
  'vm:remove': 59,
  'vm:migrate': 65,
  'disk:create': 2022,
  'disk:remove': 2015,
  'template:create': 52,
  'template:remove': 110,
  'storage_domain:activate': 967,
  'storage_domain:deactivate': 969,
  'host:deactivate': 602,
};

/** The objects an event concerns, by id (and the VM's and host's names, which the log keeps). */
export interface EventLinks {
  vmId?: string | null;
  vmName?: string | null;
  hostId?: string | null;
  hostName?: string | null;
  clusterId?: string | null;
  dataCenterId?: string | null;
  storageDomainId?: string | null;
  templateId?: string | null;
}

/** What a task's successful end says of its object's status, with oVirt's code, where the object's status changes only then. */
export const finishedStatuses: Readonly<Record<string, { code: number; status: string }>> = {
  'storage_domain:activate': { code: 966, status: 'active' },
  'storage_domain:deactivate': { code: 968, status: 'maintenance' },
  'disk:create': { code: 2021, status: 'ok' },
  'template:create': { code: 51, status: 'ok' },
};

/** What an event is about and what it says, as a writer gives it; the log adds its id and time. */
export interface EventInput extends EventLinks {
  kind: EventKind | 'external';
  /** oVirt's code; for kinds whose code depends on the object (object_*), the object's. */
  code: number;
  severity: EventSeverity;
  description: string;
  correlationId?: string | null;
  origin?: string;
  customId?: number | null;
  objectType?: EventObjectType | null;
  objectId?: string | null;
  change?: ObjectChange | null;
  /** The object's status after a `status` change. */
  status?: string | null;
  userId?: string | null;
  userName?: string | null;
}

/** Whether a text is an event's id: a whole number, as the log gives them. */
export function isEventId(text: string): boolean {
  return /^\d{1,15}$/.test(text);
}

/** An action's name as a description begins with it (`start` as `Start`, `allocate_vm` as `Allocate vm`). */
export function actionLabel(action: string): string {
  return `${action.charAt(0).toUpperCase()}${action.slice(1).replaceAll('_', ' ')}`;
}

/** Fills a kind's text with the facts it names; a fact not given reads as a dash. */
export function describe(kind: EventKind, facts: Readonly<Record<string, string | null | undefined>>): string {
  return eventKinds[kind].text.replace(/\{(\w+)\}/g, (_, name: string) => (Object.hasOwn(facts, name) ? facts[name] : undefined) ?? '-');
}

/** An event of a kind Drover records, with its code and severity from the table (or the object's code for the object_* kinds). */
export function eventOf(kind: EventKind, facts: Readonly<Record<string, string | null | undefined>>, about: Omit<EventInput, 'kind' | 'code' | 'severity' | 'description'> = {}): EventInput {
  const { code, severity } = eventKinds[kind];
  return { kind, code, severity, description: describe(kind, facts), ...about };
}

/** An event that an object was created, changed or removed (or that its removal began), with the object kind's oVirt code. */
export function objectEvent(
  kind: 'object_created' | 'object_updated' | 'object_deleted' | 'object_removal_requested',
  objectType: EventObjectType,
  facts: Readonly<Record<string, string | null | undefined>>,
  about: Omit<EventInput, 'kind' | 'code' | 'severity' | 'description' | 'objectType'> = {},
): EventInput {
  const codes = objectCodes[objectType];
  const code = kind === 'object_created' ? codes.created : kind === 'object_updated' ? codes.updated : codes.deleted;
  const change: ObjectChange | null = kind === 'object_created' ? 'created' : kind === 'object_updated' ? 'updated' : kind === 'object_deleted' ? 'deleted' : null;
  return { ...eventOf(kind, { object: codes.label, ...facts }, { change, ...about, objectType }), code };
}

/** The event of a VM's power state as its host reported it, or none for a state that is not news (shutting down). */
export function powerStateEvent(state: PowerState | null): EventKind | undefined {
  switch (state) {
    case 'running':
      return 'vm_up';
    case 'paused':
      return 'vm_paused';
    case 'suspended':
    case 'pm_suspended':
      return 'vm_suspended';
    case 'crashed':
      return 'vm_crashed';
    case 'shutoff':
    case null:
      return 'vm_down';
    case 'shutting_down':
      return undefined;
  }
}

/** The event of a host's status as the API presents it (rules/host-admin.ts), from its connection status and administrative state. */
export function hostStatusEvent(status: HostStatus, adminState: HostAdminState): { kind: EventKind; status: string } {
  const presented = presentedHostStatus({ status, adminState });
  switch (presented) {
    case 'non_responsive':
      return { kind: 'host_non_responsive', status: presented };
    case 'non_operational':
      return { kind: 'host_non_operational', status: presented };
    case 'maintenance':
      return { kind: 'host_maintenance', status: presented };
    default:
      return { kind: 'host_status', status: presented };
  }
}

/** Where events go: the audit log, or nowhere for a part tested alone. */
export interface EventSink {
  record(input: EventInput): unknown;
}

export const noEvents: EventSink = { record: () => undefined };
