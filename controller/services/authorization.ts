import type { Orm } from '../db/orm.js';
import { dialectOf, type Dialect } from '../db/dialect.js';
import { reader, selectRows } from '../db/store.js';
import type { Records } from '../state/records.js';
import { isAdministrativeRole, roleHasPermit, type ObjectType, type PermitName } from '../rules/authorization.js';

/** A role a user holds on an object, directly or through a group: `objectId` is null on the system. */
export interface Grant {
  roleId: string;
  objectType: ObjectType;
  objectId: string | null;
}

/** A piece of SQL with its parameters, in order. */
export interface Condition {
  text: string;
  params: unknown[];
}

/** The objects that can be the target of a permission, other than the system: their tables. */
export const objectTables = {
  data_center: 'data_centers',
  cluster: 'clusters',
  host: 'hosts',
  vm: 'vms',
  vm_pool: 'vm_pools',
  template: 'templates',
  storage_domain: 'storage_domains',
  disk: 'disks',
  network: 'networks',
} as const satisfies Record<Exclude<ObjectType, 'system'>, string>;

export type GuardedObject = keyof typeof objectTables;

/**
 * Ids of objects as SQL: a scalar expression (`column` alone), or the
 * `column` of the rows `from` (tables with aliases) `where` selects.
 */
interface IdSet {
  column: string;
  from?: string;
  where?: string;
  /** Set when `column` is the id of a row of the objects' own table with this alias, whose other columns can then be read directly. */
  row?: string;
}

/**
 * The object tree: each kind of object's parents, by a column of its own row
 * or by a table that links it to them. A permission on an object holds on
 * everything below it: system, data center, cluster, then hosts, VM pools,
 * templates and VMs (a VM is also below its pool); data center, storage
 * domain, disk; a disk is also below each VM it is attached to and the
 * template it belongs to; data center, network.
 */
type Edge = { parent: GuardedObject; column: string } | { parent: GuardedObject; link: { table: string; child: string; parent: string } };

const edges: Record<GuardedObject, Edge[]> = {
  data_center: [],
  cluster: [{ parent: 'data_center', column: 'data_center_id' }],
  host: [{ parent: 'cluster', column: 'cluster_id' }],
  vm: [
    { parent: 'cluster', column: 'cluster_id' },
    { parent: 'vm_pool', column: 'vm_pool_id' },
  ],
  vm_pool: [{ parent: 'cluster', column: 'cluster_id' }],
  template: [{ parent: 'cluster', column: 'cluster_id' }],
  storage_domain: [{ parent: 'data_center', column: 'data_center_id' }],
  disk: [
    { parent: 'storage_domain', column: 'storage_domain_id' },
    { parent: 'vm', link: { table: 'disk_attachments', child: 'disk_id', parent: 'vm_id' } },
    { parent: 'template', column: 'template_id' },
  ],
  network: [{ parent: 'data_center', column: 'data_center_id' }],
};

/**
 * The kinds of object below which a grant also shows an object, as oVirt
 * shows a user the containers of what they may use: a data center is seen
 * through a grant on one of its clusters, VM pools or VMs; a cluster through
 * one on one of its VMs; a VM pool through one on one of its VMs. Such a
 * grant shows the object and gives no permit on it.
 */
const seenFromBelow: Partial<Record<GuardedObject, readonly GuardedObject[]>> = {
  data_center: ['cluster', 'vm_pool', 'vm'],
  cluster: ['vm'],
  vm_pool: ['vm'],
};

/**
 * What guards the objects of each collection the API lists: the objects (an
 * IdSet over the row `t`) whose permissions decide whether a row is seen.
 * Devices and profiles go with their VM, template or network; tasks with the
 * object they act on and their VM; MAC pools with the system alone; events
 * with the most particular object they concern (a VM's event with the VM,
 * not with the cluster above it, which a user of one VM of it also sees).
 */
export const guards = {
  vm: [{ type: 'vm', ids: { column: 't.id', row: 't' } }],
  host: [{ type: 'host', ids: { column: 't.id', row: 't' } }],
  cluster: [{ type: 'cluster', ids: { column: 't.id', row: 't' } }],
  data_center: [{ type: 'data_center', ids: { column: 't.id', row: 't' } }],
  storage_domain: [{ type: 'storage_domain', ids: { column: 't.id', row: 't' } }],
  disk: [{ type: 'disk', ids: { column: 't.id', row: 't' } }],
  network: [{ type: 'network', ids: { column: 't.id', row: 't' } }],
  template: [{ type: 'template', ids: { column: 't.id', row: 't' } }],
  vm_pool: [{ type: 'vm_pool', ids: { column: 't.id', row: 't' } }],
  disk_attachment: [
    { type: 'vm', ids: { column: 't.vm_id' } },
    { type: 'template', ids: { column: 't.template_id' } },
  ],
  nic: [
    { type: 'vm', ids: { column: 't.vm_id' } },
    { type: 'template', ids: { column: 't.template_id' } },
  ],
  vnic_profile: [{ type: 'network', ids: { column: 't.network_id' } }],
  mac_pool: [],
  job: [],
  task: [
    { type: 'vm', ids: { column: 't.vm_id' } },
    { type: 'disk', ids: { column: "case when t.object_type = 'disk' then t.object_id end" } },
    { type: 'storage_domain', ids: { column: "case when t.object_type = 'storage_domain' then t.object_id end" } },
    { type: 'template', ids: { column: "case when t.object_type = 'template' then t.object_id end" } },
    { type: 'vm_pool', ids: { column: "case when t.object_type = 'vm_pool' then t.object_id end" } },
    { type: 'host', ids: { column: "case when t.object_type = 'host' then t.object_id end" } },
  ],
  event: [
    { type: 'vm', ids: { column: 't.vm_id' } },
    { type: 'host', ids: { column: 'case when t.vm_id is null then t.host_id end' } },
    { type: 'template', ids: { column: 'case when t.vm_id is null and t.host_id is null then t.template_id end' } },
    { type: 'storage_domain', ids: { column: 'case when t.vm_id is null and t.host_id is null and t.template_id is null then t.storage_domain_id end' } },
    { type: 'cluster', ids: { column: 'case when t.vm_id is null and t.host_id is null and t.template_id is null and t.storage_domain_id is null then t.cluster_id end' } },
    { type: 'data_center', ids: { column: 'case when t.vm_id is null and t.host_id is null and t.template_id is null and t.storage_domain_id is null and t.cluster_id is null then t.data_center_id end' } },
  ],
} as const satisfies Record<string, readonly { type: GuardedObject; ids: IdSet }[]>;

export type GuardedResource = keyof typeof guards;

/** The tables of the resources the API guards. */
const guardedTables: Record<GuardedResource, string> = {
  ...objectTables,
  disk_attachment: 'disk_attachments',
  nic: 'nics',
  vnic_profile: 'vnic_profiles',
  mac_pool: 'mac_pools',
  task: 'tasks',
  event: 'events',
  job: 'jobs',
};

/**
 * Decides what a user may see and do, in one place for the API's checks of
 * single objects and for the SQL conditions of its collections, by the rules
 * rules/authorization-reference.ts states (tests compare the two). A user's
 * grants (their own permissions and their groups') are read once and kept
 * until a permission, a group membership or a user changes: whoever writes
 * those calls `invalidate`.
 */
export class AuthorizationService {
  private readonly grants = new Map<string, Promise<Grant[]>>();
  private readonly dialect: Dialect;

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
  ) {
    this.dialect = dialectOf(orm);
  }

  invalidate(): void {
    this.grants.clear();
  }

  grantsOf(userId: string): Promise<Grant[]> {
    let grants = this.grants.get(userId);
    if (!grants) {
      grants = selectRows<{ role_id: string; object_type: ObjectType; object_id: string | null }>(
        reader(this.orm),
        'select p.role_id, p.object_type, p.object_id from permissions p where p.user_id = ? or p.group_id in (select m.group_id from group_members m where m.user_id = ?)',
        [userId, userId],
      ).then((rows) => rows.map((row) => ({ roleId: row.role_id, objectType: row.object_type, objectId: row.object_id })));
      grants.catch(() => this.grants.delete(userId));
      this.grants.set(userId, grants);
    }
    return grants;
  }

  /** Whether the user holds an administrative role anywhere, which makes them an administrator as oVirt counts them. */
  async isAdministrator(userId: string): Promise<boolean> {
    return (await this.grantsOf(userId)).some((grant) => isAdministrativeRole(grant.roleId));
  }

  /** Whether the user holds the permit on the system itself. */
  async holdsOnSystem(userId: string, permit: PermitName): Promise<boolean> {
    return (await this.grantsOf(userId)).some((grant) => grant.objectType === 'system' && roleHasPermit(grant.roleId, permit));
  }

  /**
   * The SQL condition over a collection's row `t` that the user sees the row
   * (any role on one of its guards or above), or, with `permit`, that the user
   * holds that permit on it; undefined when it holds on every row (a grant on
   * the system).
   */
  async condition(userId: string, resource: GuardedResource, permit?: PermitName): Promise<Condition | undefined> {
    const grants = (await this.grantsOf(userId)).filter((grant) => permit === undefined || roleHasPermit(grant.roleId, permit));
    if (grants.some((grant) => grant.objectType === 'system')) return undefined;
    const granted = new Map<GuardedObject, Set<string>>();
    for (const grant of grants) {
      const type = grant.objectType as GuardedObject;
      if (!granted.has(type)) granted.set(type, new Set());
      granted.get(type)!.add(grant.objectId!);
    }
    const parts: Condition[] = [];
    const aliases = { next: 0 };
    for (const guard of guards[resource] as readonly { type: GuardedObject; ids: IdSet }[]) {
      for (const { type, ids } of ancestry(guard.type, guard.ids, aliases)) {
        const objects = granted.get(type);
        if (objects) parts.push(this.intersects(ids, [...objects]));
      }
      if (permit !== undefined) continue;
      for (const below of seenFromBelow[guard.type] ?? []) {
        const objects = granted.get(below);
        if (objects) parts.push(this.grantedBelow(guard.type, guard.ids, below, [...objects], aliases));
      }
    }
    if (parts.length === 0) return { text: '1 = 0', params: [] };
    return { text: `(${parts.map((part) => part.text).join(' or ')})`, params: parts.flatMap((part) => part.params) };
  }

  /**
   * Whether the user sees the object and holds the permit on it: `hidden` when
   * the user may not see it (or it does not exist), `forbidden` when they see
   * it without the permit. `seeAll` counts every object as seen (an
   * administrator reading without a filter).
   */
  async check(userId: string, type: GuardedResource, id: string, permit: PermitName | undefined, seeAll: boolean): Promise<'allowed' | 'hidden' | 'forbidden'> {
    const grants = await this.grantsOf(userId);
    const onSystem = grants.filter((grant) => grant.objectType === 'system');
    const sees = seeAll || onSystem.length > 0;
    const may = permit === undefined || onSystem.some((grant) => roleHasPermit(grant.roleId, permit));
    if (sees && may) return 'allowed';
    if (type === 'vm' || type === 'host' || type === 'task') await this.records.settled();
    const seen = sees ? undefined : await this.condition(userId, type);
    const permitted = may ? undefined : await this.condition(userId, type, permit);
    const flag = (condition: Condition | undefined) => (condition ? `case when ${condition.text} then 1 else 0 end` : '1');
    const [row] = await selectRows<{ seen: number | string; permitted: number | string }>(
      reader(this.orm),
      `select ${flag(seen)} as seen, ${flag(permitted)} as permitted from ${guardedTables[type]} t where t.id = ?`,
      [...(seen?.params ?? []), ...(permitted?.params ?? []), id],
    );
    if (!row || Number(row.seen) !== 1) return 'hidden';
    return Number(row.permitted) === 1 ? 'allowed' : 'forbidden';
  }

  /** Whether the user holds the permit on some object: what a creation needs before its target is known. */
  async holdsAnywhere(userId: string, permit: PermitName): Promise<boolean> {
    return (await this.grantsOf(userId)).some((grant) => roleHasPermit(grant.roleId, permit));
  }

  /** The container an object's row names in `column` (a VM's cluster_id, say). */
  async parentOf(type: GuardedObject, id: string, column: 'cluster_id' | 'data_center_id'): Promise<string | undefined> {
    if (type === 'vm') await this.records.settled();
    const [row] = await selectRows<{ parent: string | null }>(reader(this.orm), `select t.${column} as parent from ${objectTables[type]} t where t.id = ?`, [id]);
    return row?.parent ?? undefined;
  }

  /** The id of the object of the type that the reference names by id or by name, if there is one. */
  async find(type: GuardedObject, reference: { id?: string; name?: string }): Promise<string | undefined> {
    if (type === 'vm') await this.records.settled();
    const [by, value] = reference.id !== undefined ? ['id', reference.id] : ['name', reference.name];
    const [row] = await selectRows<{ id: string }>(reader(this.orm), `select t.id from ${objectTables[type]} t where t.${by} = ?`, [value]);
    return row?.id;
  }

  /** That one of the granted objects of type `below` is below an object of the set `ids` of type `type`. */
  private grantedBelow(type: GuardedObject, ids: IdSet, below: GuardedObject, objects: string[], aliases: { next: number }): Condition {
    const alias = `b${aliases.next++}`;
    const above = ancestry(below, { column: `${alias}.id`, row: alias }, aliases).filter((entry) => entry.type === type);
    const reaches = above.map((entry) => `${ids.column} ${within(entry.ids)}`).join(' or ');
    return { text: `exists (select 1 from ${objectTables[below]} ${alias} where ${this.dialect.inList(`${alias}.id`, objects.length)} and (${reaches}))`, params: [this.dialect.listParam(objects)] };
  }

  private intersects(ids: IdSet, objects: string[]): Condition {
    const member = this.dialect.inList(ids.column, objects.length);
    const params = [this.dialect.listParam(objects)];
    if (!ids.from) return { text: member, params };
    return { text: `exists (select 1 from ${ids.from} where ${ids.where} and ${member})`, params };
  }
}

/** The objects an IdSet of objects of `type` is below, with the set itself first: each as an IdSet of that type's ids. */
function ancestry(type: GuardedObject, ids: IdSet, aliases: { next: number }): { type: GuardedObject; ids: IdSet }[] {
  const found = [{ type, ids }];
  for (const edge of edges[type]) {
    const alias = `g${aliases.next++}`;
    let parents: IdSet;
    if ('column' in edge) {
      parents = ids.row ? { column: `${ids.row}.${edge.column}` } : { column: `${alias}.${edge.column}`, from: `${objectTables[type]} ${alias}`, where: `${alias}.id ${within(ids)}` };
    } else {
      parents = { column: `${alias}.${edge.link.parent}`, from: `${edge.link.table} ${alias}`, where: `${alias}.${edge.link.child} ${within(ids)}` };
    }
    found.push(...ancestry(edge.parent, parents, aliases));
  }
  return found;
}

/** `= id` or `in (ids)`: the SQL after a column that matches the ids of the set. */
function within(ids: IdSet): string {
  return ids.from ? `in (select ${ids.column} from ${ids.from} where ${ids.where})` : `= ${ids.column}`;
}
