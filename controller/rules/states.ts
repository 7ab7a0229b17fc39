/**
 * The enumerations of the controller's own state, each one `as const` list
 * with its type derived from it. Power states are the hypervisor's and live
 * in shared/model.ts.
 */

/**
 * A host's status: `connecting` from its agent's hello (and from a controller
 * start) until the session has sent the host's inventory, then `up`;
 * `non_operational` while its agent reports that it cannot reach its
 * hypervisor (until the agent sends an inventory again); `non_responsive`
 * when its agent missed its heartbeats, or stayed `connecting` that long.
 */
export const hostStatuses = ['up', 'connecting', 'non_operational', 'non_responsive'] as const;
export type HostStatus = (typeof hostStatuses)[number];

/**
 * A host's administrative state, which its administrator sets: `active`
 * (the host takes VMs), `preparing_for_maintenance` (POST deactivate is
 * moving its VMs away) and `maintenance` (it has none and takes none until
 * it is activated). It is shown as the host's status while the host is `up`
 * or `connecting`; a host that lost its agent or hypervisor shows that.
 */
export const hostAdminStates = ['active', 'preparing_for_maintenance', 'maintenance'] as const;
export type HostAdminState = (typeof hostAdminStates)[number];

/**
 * Where a VM may run, oVirt's `placement_policy.affinity`: `migratable`
 * (Drover may move it, for a host's maintenance say), `user_migratable`
 * (only an administrator's migrate moves it), `pinned` (it stays on the host
 * it is defined on).
 */
export const migrationAffinities = ['migratable', 'user_migratable', 'pinned'] as const;
export type MigrationAffinity = (typeof migrationAffinities)[number];

/** What the last accepted action of a VM asked for. */
export const desiredStates = ['up', 'down', 'suspended'] as const;
export type DesiredState = (typeof desiredStates)[number];

/** A task's state; the last three are terminal. */
export const taskStates = ['queued', 'running', 'finished', 'failed', 'cancelled'] as const;
export type TaskState = (typeof taskStates)[number];

export const terminalTaskStates: ReadonlySet<TaskState> = new Set(['finished', 'failed', 'cancelled']);
