import type { Group, Permission, User } from '../../db/entities.js';
import { internalDomain, internalNamespace, parseUserName, type Permit, type Role } from '../../rules/authorization.js';
import type { Presenter } from './entities.js';
import { permissionOwners } from '../collections.js';
import { link, ref, type Rep } from './representation.js';

/** The collection of each kind of object a permission can be on. */
export const permissionObjects = new Map<string, string>(Object.entries(permissionOwners).map(([segment, type]) => [type, segment]));

const domainRef = (present: Presenter) => ref(present.href('domains', internalDomain.id), internalDomain.id);

/** A user as oVirt presents one of its internal domain: `name` is the principal, `user_name` has the domain. */
export function userRep(present: Presenter, user: User): Rep {
  const href = present.href('users', user.id);
  const principal = parseUserName(user.name)?.principal ?? user.name;
  return {
    $: { href, id: user.id },
    name: principal,
    link: ['groups', 'permissions'].map((rel) => link(`${href}/${rel}`, rel)),
    domain_entry_id: Buffer.from(user.id, 'utf8').toString('hex'),
    namespace: internalNamespace,
    principal,
    user_name: user.name,
    domain: domainRef(present),
  };
}

export function groupRep(present: Presenter, group: Group, href = present.href('groups', group.id)): Rep {
  return {
    $: { href, id: group.id },
    name: group.name,
    link: [link(`${present.href('groups', group.id)}/permissions`, 'permissions')],
    domain_entry_id: Buffer.from(group.id, 'utf8').toString('hex'),
    namespace: internalNamespace,
    domain: domainRef(present),
  };
}

export function roleRep(present: Presenter, role: Role): Rep {
  const href = present.href('roles', role.id);
  return {
    $: { href, id: role.id },
    name: role.name,
    description: role.description,
    link: [link(`${href}/permits`, 'permits')],
    administrative: role.administrative,
    mutable: false,
  };
}

export function permitRep(present: Presenter, role: Role, permit: Permit): Rep {
  return {
    $: { href: present.href('roles', role.id, 'permits', String(permit.id)), id: String(permit.id) },
    name: permit.name,
    administrative: permit.administrative,
    role: ref(present.href('roles', role.id), role.id),
  };
}

export function domainRep(present: Presenter): Rep {
  const href = present.href('domains', internalDomain.id);
  return { $: { href, id: internalDomain.id }, name: internalDomain.name, link: ['groups', 'users'].map((rel) => link(`${href}/${rel}`, rel)) };
}

/** A permission, at `base` (the collection it was read from: an object's, a user's, a group's, or the system's). */
export function permissionRep(present: Presenter, permission: Permission, base: string): Rep {
  const rep: Rep = {
    $: { href: `${base}/${permission.id}`, id: permission.id },
    role: ref(present.href('roles', permission.roleId), permission.roleId),
    user: permission.userId ? ref(present.href('users', permission.userId), permission.userId) : undefined,
    group: permission.groupId ? ref(present.href('groups', permission.groupId), permission.groupId) : undefined,
  };
  if (permission.objectType !== 'system' && permission.objectId) {
    rep[permission.objectType] = ref(present.href(permissionObjects.get(permission.objectType)!, permission.objectId), permission.objectId);
  }
  return rep;
}
