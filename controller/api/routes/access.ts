import type { ApiRouter } from '../routing.js';
import type { Services } from '../services.js';
import type { Permission, User } from '../../db/entities.js';
import { forbidden, invalid, notFound } from '../../rules/errors.js';
import { internalDomain, parseUserName, permitById, permitByName, roleOf, roles, type ObjectType } from '../../rules/authorization.js';
import { UserService, type PermissionScope } from '../../services/users.js';
import type { GuardedObject } from '../../services/authorization.js';
import { respond, respondList, type ApiContext } from '../context.js';
import { documentOf, queryFlag, querySingle } from '../input/request.js';
import { checkFields, parseSearch, SearchError } from '../../query/search.js';
import { matches, type FieldValue } from '../../query/search-reference.js';
import { nameHint, namePattern, type Fields } from '../input/fields.js';
import { domainRep, groupRep, permissionRep, permitRep, roleRep, userRep } from '../present/access.js';
import { permissionOwners } from '../collections.js';
import { ifMatchDocument } from './steps.js';

/**
 * The users or groups a request's `search` selects, as oVirt's clients look
 * them up (`usrname=joe@internal-authz`, `name="operators"`): each item's
 * records are flat field values, and an item matches when one of its records
 * does (a user name matches with either spelling of the domain).
 */
export function searched<T>(ctx: ApiContext, items: T[], fields: readonly string[], recordsOf: (item: T) => Record<string, FieldValue>[]): T[] {
  const text = querySingle(ctx, 'search');
  if (!text) return items;
  let where;
  try {
    const query = parseSearch(text);
    checkFields(query, fields);
    where = query.where;
  } catch (error) {
    if (error instanceof SearchError) throw invalid(`search: ${error.message}`);
    throw error;
  }
  if (!where) return items;
  const options = { caseSensitive: queryFlag(ctx, 'case_sensitive') ?? false, types: {} };
  return items.filter((item) => recordsOf(item).some((record) => matches(where, record, options)));
}

const userRecords = (user: User) => {
  const principal = parseUserName(user.name)?.principal ?? user.name;
  return [`${principal}@${internalDomain.name}`, `${principal}@internal-authz`].map((usrname) => ({ usrname, name: principal }));
};
const userFields = ['usrname', 'name'];
const groupFields = ['name'];

const complete = (ctx: ApiContext) => respond(ctx, 200, 'action', ctx.state.present.action(undefined, 'complete'));

function roleInput(fields: Fields): string {
  const reference = fields.reference('role', { required: true })!;
  const role = reference.id !== undefined ? roleOf(reference.id) : roles.find((candidate) => candidate.name === reference.name);
  if (!role) throw notFound('role', reference.id ?? reference.name!);
  return role.id;
}

/** The object a permission document names (`<vm id=…/>`, `<cluster>…`): the system when it names none. */
function objectInput(fields: Fields): { objectType: ObjectType; objectId: string | null } {
  const named = Object.values(permissionOwners).filter((type) => fields.nested(type) !== undefined);
  if (named.length > 1) throw invalid(`permission names more than one object: ${named.join(', ')}`);
  if (named.length === 0) return { objectType: 'system', objectId: null };
  const id = fields.nested(named[0]!)!.text('id', { required: true, max: 64 })!;
  return { objectType: named[0]!, objectId: id };
}

/**
 * Registers users, groups, roles with their permits, the internal domain, and
 * permissions: the system's (`/permissions`), each object's
 * (`/vms/{id}/permissions`, ...), each user's and each group's.
 */
export function accessRoutes(router: ApiRouter, services: Services): void {
  const { users, authorization } = services;

  /** Refuses (403) a permission change the user may not make: it needs manipulate_permissions on the object, and an administrative role needs an administrator. */
  async function checkGrant(ctx: ApiContext, permission: Pick<Permission, 'roleId' | 'objectType' | 'objectId'>): Promise<void> {
    const userId = ctx.state.principal!.userId;
    const admin = await authorization.isAdministrator(userId);
    if (!UserService.grantable(permission.roleId, admin)) throw forbidden('only administrators may give or take administrative roles');
    if (permission.objectType === 'system') {
      if (!(await authorization.holdsOnSystem(userId, 'manipulate_permissions'))) throw forbidden('the user lacks the manipulate_permissions permit on the system');
      return;
    }
    const outcome = await authorization.check(userId, permission.objectType as GuardedObject, permission.objectId!, 'manipulate_permissions', !ctx.state.filtered);
    if (outcome === 'hidden') throw notFound(permission.objectType.replace('_', ' '), permission.objectId!);
    if (outcome === 'forbidden') throw forbidden(`the user lacks the manipulate_permissions permit on ${permission.objectType.replace('_', ' ')} ${permission.objectId}`);
  }

  /** The permissions of a scope that the request may read: all of them for an unfiltered read, else the user's own and their groups'. */
  async function readable(ctx: ApiContext, scope: PermissionScope): Promise<Permission[]> {
    const permissions = await users.listPermissions(scope);
    if (!ctx.state.filtered) return permissions;
    const userId = ctx.state.principal!.userId;
    const groups = new Set((await users.groupsOf(userId)).map((group) => group.id));
    return permissions.filter((permission) => permission.userId === userId || (permission.groupId !== null && groups.has(permission.groupId)));
  }

  function permissionRoutes(base: string, scopeOf: (ctx: ApiContext) => PermissionScope, inputOf: (ctx: ApiContext, fields: Fields) => Parameters<typeof users.addPermission>[0]): void {
    const hrefOf = (ctx: ApiContext) => ctx.state.present.href(...base.replace(':id', ctx.params.id ?? '').split('/').filter(Boolean), 'permissions');
    router.get(`${base}/permissions`, async (ctx) => {
      const permissions = await readable(ctx, scopeOf(ctx));
      respondList(ctx, 'permissions', 'permission', permissions.map((permission) => permissionRep(ctx.state.present, permission, hrefOf(ctx))));
    });
    router.get(`${base}/permissions/:permission`, async (ctx) => {
      const found = (await readable(ctx, scopeOf(ctx))).find((permission) => permission.id === ctx.params.permission);
      if (!found) throw notFound('permission', ctx.params.permission!);
      respond(ctx, 200, 'permission', permissionRep(ctx.state.present, found, hrefOf(ctx)));
    });
    router.post(`${base}/permissions`, async (ctx) => {
      const input = inputOf(ctx, await documentOf(ctx, 'permission'));
      await checkGrant(ctx, input);
      const permission = await users.addPermission(input);
      ctx.set('Location', `${hrefOf(ctx)}/${permission.id}`);
      respond(ctx, 201, 'permission', permissionRep(ctx.state.present, permission, hrefOf(ctx)));
    });
    const permissionAt = async (ctx: ApiContext) => {
      const found = (await users.listPermissions(scopeOf(ctx))).find((permission) => permission.id === ctx.params.permission);
      if (!found) throw notFound('permission', ctx.params.permission!);
      return found;
    };
    const current = ifMatchDocument('permission', async (ctx) => {
      const found = await permissionAt(ctx);
      return () => permissionRep(ctx.state.present, found, hrefOf(ctx));
    });
    router.delete(`${base}/permissions/:permission`, current, async (ctx) => {
      const found = await permissionAt(ctx);
      await checkGrant(ctx, found);
      await users.removePermission(found.id);
      complete(ctx);
    });
  }

  const principalInput = (fields: Fields) => {
    const user = fields.nested('user')?.text('id', { required: true, max: 64 });
    const group = fields.nested('group')?.text('id', { required: true, max: 64 });
    if ((user === undefined) === (group === undefined)) throw invalid('permission needs a user or a group (by id), not both');
    return { userId: user, groupId: group };
  };

  for (const [segment, objectType] of Object.entries(permissionOwners)) {
    permissionRoutes(
      `/${segment}/:id`,
      (ctx) => ({ objectType, objectId: ctx.params.id! }),
      (ctx, fields) => ({ roleId: roleInput(fields), ...principalInput(fields), objectType, objectId: ctx.params.id! }),
    );
  }
  router.get('/permissions', async (ctx) => {
    const permissions = await readable(ctx, { objectType: 'system', objectId: null });
    respondList(ctx, 'permissions', 'permission', permissions.map((permission) => permissionRep(ctx.state.present, permission, ctx.state.present.href('permissions'))));
  });
  router.get('/permissions/:id', async (ctx) => {
    const found = (await readable(ctx, { objectType: 'system', objectId: null })).find((permission) => permission.id === ctx.params.id);
    if (!found) throw notFound('permission', ctx.params.id!);
    respond(ctx, 200, 'permission', permissionRep(ctx.state.present, found, ctx.state.present.href('permissions')));
  });
  router.post('/permissions', async (ctx) => {
    const fields = await documentOf(ctx, 'permission');
    const input = { roleId: roleInput(fields), ...principalInput(fields), objectType: 'system' as const, objectId: null };
    await checkGrant(ctx, input);
    const permission = await users.addPermission(input);
    ctx.set('Location', ctx.state.present.href('permissions', permission.id));
    respond(ctx, 201, 'permission', permissionRep(ctx.state.present, permission, ctx.state.present.href('permissions')));
  });
  const systemPermissionAt = async (ctx: ApiContext) => {
    const found = (await users.listPermissions({ objectType: 'system', objectId: null })).find((permission) => permission.id === ctx.params.id);
    if (!found) throw notFound('permission', ctx.params.id!);
    return found;
  };
  const currentSystemPermission = ifMatchDocument('permission', async (ctx) => {
    const found = await systemPermissionAt(ctx);
    return () => permissionRep(ctx.state.present, found, ctx.state.present.href('permissions'));
  });
  router.delete('/permissions/:id', currentSystemPermission, async (ctx) => {
    const found = await systemPermissionAt(ctx);
    await checkGrant(ctx, found);
    await users.removePermission(found.id);
    complete(ctx);
  });
  permissionRoutes(
    '/users/:id',
    (ctx) => ({ userId: ctx.params.id! }),
    (ctx, fields) => ({ roleId: roleInput(fields), userId: ctx.params.id!, ...objectInput(fields) }),
  );
  permissionRoutes(
    '/groups/:id',
    (ctx) => ({ groupId: ctx.params.id! }),
    (ctx, fields) => ({ roleId: roleInput(fields), groupId: ctx.params.id!, ...objectInput(fields) }),
  );

  router.get('/users', async (ctx) => {
    respondList(ctx, 'users', 'user', searched(ctx, await users.listUsers(), userFields, userRecords).map((user) => userRep(ctx.state.present, user)));
  });
  router.get('/users/:id', async (ctx) => {
    respond(ctx, 200, 'user', userRep(ctx.state.present, await users.getUser(ctx.params.id!)));
  });
  router.post('/users', async (ctx) => {
    const fields = await documentOf(ctx, 'user');
    const domain = fields.reference('domain');
    if (domain && domain.id !== internalDomain.id && domain.name !== internalDomain.name && domain.name !== 'internal-authz') throw notFound('domain', domain.id ?? domain.name!);
    const userName = fields.text('user_name', { required: true, max: 255 })!;
    const password = fields.text('password', { required: true, max: 1024 })!;
    const user = await users.addUser(userName, password);
    ctx.set('Location', ctx.state.present.href('users', user.id));
    respond(ctx, 201, 'user', userRep(ctx.state.present, user));
  });
  const currentUser = ifMatchDocument('user', async (ctx) => {
    const user = await users.getUser(ctx.params.id!);
    return () => userRep(ctx.state.present, user);
  });
  router.delete('/users/:id', currentUser, async (ctx) => {
    await users.removeUser(ctx.params.id!);
    complete(ctx);
  });
  router.get('/users/:id/groups', async (ctx) => {
    const groups = await users.groupsOf(ctx.params.id!);
    respondList(ctx, 'groups', 'group', groups.map((group) => groupRep(ctx.state.present, group)));
  });
  router.post('/users/:id/groups', async (ctx) => {
    const reference = (await documentOf(ctx, 'group')).text('id', { required: true, max: 64 })!;
    const group = await users.addMember(ctx.params.id!, reference);
    respond(ctx, 201, 'group', groupRep(ctx.state.present, group));
  });
  const membershipAt = async (ctx: ApiContext) => {
    const group = (await users.groupsOf(ctx.params.id!)).find((candidate) => candidate.id === ctx.params.group);
    if (!group) throw notFound('group membership', ctx.params.group!);
    return group;
  };
  router.get('/users/:id/groups/:group', async (ctx) => {
    respond(ctx, 200, 'group', groupRep(ctx.state.present, await membershipAt(ctx)));
  });
  const currentMembership = ifMatchDocument('group', async (ctx) => {
    const group = await membershipAt(ctx);
    return () => groupRep(ctx.state.present, group);
  });
  router.delete('/users/:id/groups/:group', currentMembership, async (ctx) => {
    await users.removeMember(ctx.params.id!, ctx.params.group!);
    complete(ctx);
  });

  router.get('/groups', async (ctx) => {
    const groups = searched(ctx, await users.listGroups(), groupFields, (group) => [{ name: group.name }]);
    respondList(ctx, 'groups', 'group', groups.map((group) => groupRep(ctx.state.present, group)));
  });
  router.get('/groups/:id', async (ctx) => {
    respond(ctx, 200, 'group', groupRep(ctx.state.present, await users.getGroup(ctx.params.id!)));
  });
  router.post('/groups', async (ctx) => {
    const name = (await documentOf(ctx, 'group')).text('name', { required: true, pattern: namePattern, patternHint: nameHint })!;
    const group = await users.addGroup(name);
    ctx.set('Location', ctx.state.present.href('groups', group.id));
    respond(ctx, 201, 'group', groupRep(ctx.state.present, group));
  });
  const currentGroup = ifMatchDocument('group', async (ctx) => {
    const group = await users.getGroup(ctx.params.id!);
    return () => groupRep(ctx.state.present, group);
  });
  router.delete('/groups/:id', currentGroup, async (ctx) => {
    await users.removeGroup(ctx.params.id!);
    complete(ctx);
  });

  const roleAt = (id: string) => {
    const role = roleOf(id);
    if (!role) throw notFound('role', id);
    return role;
  };
  router.get('/roles', async (ctx) => {
    respondList(ctx, 'roles', 'role', roles.map((role) => roleRep(ctx.state.present, role)));
  });
  router.get('/roles/:id', async (ctx) => {
    respond(ctx, 200, 'role', roleRep(ctx.state.present, roleAt(ctx.params.id!)));
  });
  router.get('/roles/:id/permits', async (ctx) => {
    const role = roleAt(ctx.params.id!);
    respondList(ctx, 'permits', 'permit', role.permits.map((name) => permitRep(ctx.state.present, role, permitByName(name))));
  });
  router.get('/roles/:id/permits/:permit', async (ctx) => {
    const role = roleAt(ctx.params.id!);
    const permit = /^\d{1,6}$/.test(ctx.params.permit!) ? permitById(Number(ctx.params.permit)) : undefined;
    if (!permit || !(role.permits as readonly string[]).includes(permit.name)) throw notFound('permit', ctx.params.permit!);
    respond(ctx, 200, 'permit', permitRep(ctx.state.present, role, permit));
  });

  const domainAt = (id: string) => {
    if (id !== internalDomain.id) throw notFound('domain', id);
  };
  router.get('/domains', async (ctx) => {
    respondList(ctx, 'domains', 'domain', [domainRep(ctx.state.present)]);
  });
  router.get('/domains/:id', async (ctx) => {
    domainAt(ctx.params.id!);
    respond(ctx, 200, 'domain', domainRep(ctx.state.present));
  });
  router.get('/domains/:id/users', async (ctx) => {
    domainAt(ctx.params.id!);
    respondList(ctx, 'users', 'user', searched(ctx, await users.listUsers(), userFields, userRecords).map((user) => userRep(ctx.state.present, user)));
  });
  router.get('/domains/:id/groups', async (ctx) => {
    domainAt(ctx.params.id!);
    const groups = searched(ctx, await users.listGroups(), groupFields, (group) => [{ name: group.name }]);
    respondList(ctx, 'groups', 'group', groups.map((group) => groupRep(ctx.state.present, group)));
  });
}
