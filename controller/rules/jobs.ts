import type { TaskState } from './states.js';

/**
 * Jobs, as oVirt shows them: a job is what one request set in motion (or
 * what an external system reports through the API), and its steps are the
 * tasks it submitted (or the steps the external system added).
 */

/** oVirt's JobStatus, which its StepStatus repeats. */
export const jobStatuses = ['started', 'finished', 'failed', 'aborted', 'unknown'] as const;
export type JobStatus = (typeof jobStatuses)[number];

/** The statuses that end a job or a step: what `end` may set. */
export const endedJobStatuses = ['finished', 'failed', 'aborted'] as const;
export type EndedJobStatus = (typeof endedJobStatuses)[number];

/** oVirt's StepEnum. */
export const stepTypes = ['validating', 'executing', 'finalizing', 'rebalancing_volume', 'removing_bricks', 'unknown'] as const;
export type StepType = (typeof stepTypes)[number];

/** The status of one task seen as a step. */
export const stepStatusOfTask: Record<TaskState, JobStatus> = {
  queued: 'started',
  running: 'started',
  finished: 'finished',
  failed: 'failed',
  cancelled: 'aborted',
};

/** How many of a job's tasks are in each kind of state. */
export interface TaskCounts {
  open: number;
  failed: number;
  cancelled: number;
}

/**
 * The status of a job made of tasks: started while any of them is queued or
 * running; then failed when one failed, aborted when one was cancelled, and
 * finished otherwise.
 */
export function jobStatusOfTasks(counts: TaskCounts): JobStatus {
  if (counts.open > 0) return 'started';
  if (counts.failed > 0) return 'failed';
  if (counts.cancelled > 0) return 'aborted';
  return 'finished';
}

/**
 * The SQL twin of a job's status over the row `t` of `jobs`: the stored
 * status of an external job, else `jobStatusOfTasks` over the job's tasks.
 */
export function jobStatusSql(job = 't'): string {
  const any = (states: string) => `exists (select 1 from tasks k where k.job_id = ${job}.id and k.state in (${states}))`;
  return `coalesce(${job}.status, case when ${any("'queued', 'running'")} then 'started' when ${any("'failed'")} then 'failed' when ${any("'cancelled'")} then 'aborted' else 'finished' end)`;
}

/** What a task does, in oVirt's words for the job of that command (its ExecutionMessages), given the name of the object it acts on. */
const taskDescriptions: Record<string, (name: string) => string> = {
  'vm:start': (vm) => `Launching VM ${vm}`,
  'vm:resume': (vm) => `Launching VM ${vm}`,
  'vm:stop': (vm) => `Stopping VM ${vm}`,
  'vm:shutdown': (vm) => `Shutting down VM ${vm}`,
  'vm:suspend': (vm) => `Performing Hibernate action on VM ${vm}`,
  'vm:reboot': (vm) => `Rebooting VM ${vm}`,
  'vm:reset': (vm) => `Resetting VM ${vm}`,
  'vm:remove': (vm) => `Removing VM ${vm} from system`,
  'vm:migrate': (vm) => `Migrating VM ${vm}`,
  'vm:create_disks': (vm) => `Creating VM ${vm}`,
  'vm:attach_disk': (vm) => `Attaching Disk to VM ${vm}`,
  'vm:update_disk_attachment': (vm) => `Updating Disk properties for VM ${vm}`,
  'vm:detach_disk': (vm) => `Detaching Disk from VM ${vm}`,
  'vm:add_nic': (vm) => `Adding Network Interface to VM ${vm}`,
  'vm:update_nic': (vm) => `Updating Network Interface properties for VM ${vm}`,
  'vm:remove_nic': (vm) => `Removing Network Interface from VM ${vm}`,
  'vm:change_cdrom': (vm) => `Changing CD-ROM for VM ${vm}`,
  'vm:leave_host': (vm) => `Moving VM ${vm} off its Host`,
  'disk:create': (disk) => `Adding Disk ${disk}`,
  'disk:remove': (disk) => `Removing Disk ${disk}`,
  'storage_domain:activate': (domain) => `Activating Storage Domain ${domain}`,
  'storage_domain:deactivate': (domain) => `Deactivating Storage Domain ${domain}`,
  'template:create': (template) => `Creating VM Template ${template}`,
  'template:remove': (template) => `Removing VM Template ${template}`,
  'vm_pool:remove': (pool) => `Removing VM Pool ${pool}`,
  'host:deactivate': (host) => `Moving Host ${host} to Maintenance`,
  'host:activate': (host) => `Activating Host ${host}`,
  'host:fence': (host) => `Fencing Host ${host} manually`,
};

/** The description of a task as a job or a step: oVirt's wording where it has one, else the action and the object. */
export function describeTask(objectType: string, action: string, name: string): string {
  const describe = taskDescriptions[`${objectType}:${action}`];
  return describe ? describe(name) : `${action.replaceAll('_', ' ')} ${objectType.replaceAll('_', ' ')} ${name}`;
}
