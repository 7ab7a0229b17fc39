/**
 * What a user may see and do, written as a deliberately simple evaluator over
 * an object tree held in memory. Property tests compare the SQL that
 * services/authorization.ts compiles with it, so these rules are the contract
 * both follow:
 *
 * - Every object is below the system. An object's parents are given with it:
 *   a data center's is the system; a cluster's its data center; a host's,
 *   a template's and a VM pool's their cluster; a VM's its cluster and its
 *   pool; a storage domain's and a network's their data center; a disk's its
 *   storage domain, the VMs it is attached to and its template. An object is
 *   below its parents and everything they are below.
 * - A grant (a role on an object) belongs to a user or to a group; the user
 *   holds their own and those of every group they are a member of.
 * - A user sees an object when they hold a grant, of any role, on it or on an
 *   object it is below; and a data center when they hold one on a cluster, a
 *   VM pool or a VM below it, a cluster or a VM pool when they hold one on a
 *   VM below it (oVirt shows a user the containers of what they may use).
 * - A user holds a permit on an object when they hold a grant of a role with
 *   that permit on it or on an object it is below.
 */

import { roleHasPermit, type ObjectType, type PermitName } from './authorization.js';

export interface ObjectRef {
  type: ObjectType;
  id: string;
}

/** The objects of a tree, each with its direct parents (the system is implied above every object). */
export type ObjectTree = ReadonlyMap<string, readonly ObjectRef[]>;

export interface ReferenceGrant {
  roleId: string;
  object: ObjectRef;
}

export const objectKey = (object: ObjectRef): string => `${object.type}:${object.id}`;

const systemKey = objectKey({ type: 'system', id: '' });

/** The keys of an object and of every object it is below, the system included. */
export function aboveAndSelf(tree: ObjectTree, object: ObjectRef): Set<string> {
  const found = new Set<string>([systemKey]);
  const pending = [object];
  while (pending.length > 0) {
    const next = pending.pop()!;
    const key = objectKey(next);
    if (found.has(key)) continue;
    found.add(key);
    pending.push(...(tree.get(key) ?? []));
  }
  return found;
}

const containersSeenFrom: Partial<Record<ObjectType, readonly ObjectType[]>> = {
  cluster: ['data_center'],
  vm_pool: ['data_center'],
  vm: ['data_center', 'cluster', 'vm_pool'],
};

/** Whether a grant is on the object or on an object it is below. */
function inherits(tree: ObjectTree, grants: readonly ReferenceGrant[], object: ObjectRef): boolean {
  const above = aboveAndSelf(tree, object);
  return grants.some((grant) => above.has(grant.object.type === 'system' ? systemKey : objectKey(grant.object)));
}

/** Whether the grants let their user see the object. */
export function sees(tree: ObjectTree, grants: readonly ReferenceGrant[], object: ObjectRef): boolean {
  if (inherits(tree, grants, object)) return true;
  const key = objectKey(object);
  return grants.some((grant) => (containersSeenFrom[grant.object.type] ?? []).includes(object.type) && aboveAndSelf(tree, grant.object).has(key));
}

/** Whether the grants give their user the permit on the object. */
export function holds(tree: ObjectTree, grants: readonly ReferenceGrant[], object: ObjectRef, permit: PermitName): boolean {
  return inherits(tree, grants.filter((grant) => roleHasPermit(grant.roleId, permit)), object);
}
