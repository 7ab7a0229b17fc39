import { randomUUID } from 'node:crypto';
import type { Orm } from '../db/orm.js';
import { AccessToken, Group, GroupMember, Permission, User } from '../db/entities.js';
import { inTransaction, reader, selectRows } from '../db/store.js';
import type { Records } from '../state/records.js';
import { conflict, invalid, notFound } from '../rules/errors.js';
import { isAdministrativeRole, parseUserName, roleOf, superUserRoleId, type ObjectType } from '../rules/authorization.js';
import { adminUserName, hashPassword } from './auth.js';
import { objectTables, type AuthorizationService, type GuardedObject } from './authorization.js';

export interface PermissionInput {
  roleId: string;
  userId?: string;
  groupId?: string;
  objectType: ObjectType;
  objectId: string | null;
}

/** Whose or what's permissions a listing is of. */
export type PermissionScope = { objectType: ObjectType; objectId: string | null } | { userId: string } | { groupId: string };

/**
 * Users and groups of the internal domain, group membership, and permissions.
 * Every change here that can change what a user may do invalidates the
 * authorization service's grants. A permission goes with its object (a
 * trigger of the database removes it; see migration rbac), with its user and
 * with its group.
 */
export class UserService {
  private readonly existing = new Set<string>();

  constructor(
    private readonly orm: Orm,
    private readonly records: Records,
    private readonly authorization: AuthorizationService,
  ) {}

  listUsers(): Promise<User[]> {
    return reader(this.orm).find(User, {}, { orderBy: { name: 'asc' } });
  }

  async getUser(id: string): Promise<User> {
    const user = await reader(this.orm).findOne(User, { id });
    if (!user) throw notFound('user', id);
    return user;
  }

  /** Adds a user of the internal domain with a password, stored as a scrypt hash. */
  async addUser(userName: string, password: string): Promise<User> {
    const parsed = parseUserName(userName);
    if (!parsed) throw invalid(`user.user_name must be a name of the internal domain, name@internal, whose name has letters, digits, ".", "_" and "-" only; not "${userName}"`);
    if (password.length < 8 || password.length > 1024) throw invalid('user.password must have between 8 and 1024 characters');
    const passwordHash = await hashPassword(password);
    return inTransaction(this.orm, async (em) => em.create(User, { id: randomUUID(), name: parsed.userName, passwordHash, createdAt: Date.now() }));
  }

  /** Removes a user with their permissions, group memberships and access tokens; admin@internal cannot be removed. */
  async removeUser(id: string): Promise<void> {
    const user = await this.getUser(id);
    if (user.name === adminUserName) throw conflict(`${adminUserName} is the built-in administrator and cannot be removed`);
    this.existing.delete(id);
    await inTransaction(this.orm, async (em) => {
      await em.nativeDelete(Permission, { userId: id });
      await em.nativeDelete(GroupMember, { userId: id });
      await em.nativeDelete(AccessToken, { userId: id });
      await em.nativeDelete(User, { id });
    });
    this.authorization.invalidate();
  }

  /** Whether the user exists, remembered per user until the user is removed: a removed user's credentials stop working at once. */
  async userExists(id: string): Promise<boolean> {
    if (this.existing.has(id)) return true;
    const exists = (await reader(this.orm).count(User, { id })) > 0;
    if (exists) this.existing.add(id);
    return exists;
  }

  listGroups(): Promise<Group[]> {
    return reader(this.orm).find(Group, {}, { orderBy: { name: 'asc' } });
  }

  async getGroup(id: string): Promise<Group> {
    const group = await reader(this.orm).findOne(Group, { id });
    if (!group) throw notFound('group', id);
    return group;
  }

  async addGroup(name: string): Promise<Group> {
    return inTransaction(this.orm, async (em) => em.create(Group, { id: randomUUID(), name, createdAt: Date.now() }));
  }

  async removeGroup(id: string): Promise<void> {
    await this.getGroup(id);
    await inTransaction(this.orm, async (em) => {
      await em.nativeDelete(Permission, { groupId: id });
      await em.nativeDelete(GroupMember, { groupId: id });
      await em.nativeDelete(Group, { id });
    });
    this.authorization.invalidate();
  }

  /** The groups a user is a member of, by name. */
  async groupsOf(userId: string): Promise<Group[]> {
    await this.getUser(userId);
    const em = reader(this.orm);
    const members = await em.find(GroupMember, { userId });
    return em.find(Group, { id: { $in: members.map((member) => member.groupId) } }, { orderBy: { name: 'asc' } });
  }

  async addMember(userId: string, groupId: string): Promise<Group> {
    await this.getUser(userId);
    const group = await this.getGroup(groupId);
    const em = reader(this.orm);
    if (await em.count(GroupMember, { userId, groupId })) throw conflict(`the user is a member of group ${group.name} already`);
    await inTransaction(this.orm, async (tx) => tx.create(GroupMember, { userId, groupId }));
    this.authorization.invalidate();
    return group;
  }

  async removeMember(userId: string, groupId: string): Promise<void> {
    const removed = await reader(this.orm).nativeDelete(GroupMember, { userId, groupId });
    if (removed === 0) throw notFound('group membership', groupId);
    this.authorization.invalidate();
  }

  /** The permissions given on an object (directly, not inherited), or to a user (directly, not through groups) or a group. */
  async listPermissions(scope: PermissionScope): Promise<Permission[]> {
    // A removed VM's row, and so its permissions, go when the VM's changes are written.
    await this.records.settled();
    const where = 'userId' in scope ? { userId: scope.userId } : 'groupId' in scope ? { groupId: scope.groupId } : { objectType: scope.objectType, objectId: scope.objectId };
    return reader(this.orm).find(Permission, where, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  async getPermission(id: string): Promise<Permission> {
    await this.records.settled();
    const permission = await reader(this.orm).findOne(Permission, { id });
    if (!permission) throw notFound('permission', id);
    return permission;
  }

  /** Gives a role to a user or a group on an object; the role, the user or group, and the object must exist. */
  async addPermission(input: PermissionInput): Promise<Permission> {
    if (!roleOf(input.roleId)) throw notFound('role', input.roleId);
    if ((input.userId === undefined) === (input.groupId === undefined)) throw invalid('permission needs a user or a group, not both');
    if (input.userId !== undefined) await this.getUser(input.userId);
    if (input.groupId !== undefined) await this.getGroup(input.groupId);
    if (input.objectType !== 'system') await this.requireObject(input.objectType, input.objectId!);
    const em = reader(this.orm);
    const same = await em.count(Permission, { roleId: input.roleId, userId: input.userId ?? null, groupId: input.groupId ?? null, objectType: input.objectType, objectId: input.objectId });
    if (same) throw conflict('the user or group has that role on that object already');
    const permission = await inTransaction(this.orm, async (tx) =>
      tx.create(Permission, { id: randomUUID(), roleId: input.roleId, userId: input.userId ?? null, groupId: input.groupId ?? null, objectType: input.objectType, objectId: input.objectId, createdAt: Date.now() }),
    );
    this.authorization.invalidate();
    return permission;
  }

  /** Removes a permission; the admin user's SuperUser on the system stays. */
  async removePermission(id: string): Promise<void> {
    const permission = await this.getPermission(id);
    if (permission.roleId === superUserRoleId && permission.objectType === 'system' && permission.userId) {
      const user = await reader(this.orm).findOne(User, { id: permission.userId });
      if (user?.name === adminUserName) throw conflict(`${adminUserName} keeps SuperUser on the system`);
    }
    await reader(this.orm).nativeDelete(Permission, { id });
    this.authorization.invalidate();
  }

  /** Gives admin@internal SuperUser on the system unless it has it: at start, after the admin is made. */
  async ensureAdminPermission(): Promise<void> {
    const em = reader(this.orm);
    const admin = await em.findOne(User, { name: adminUserName });
    if (!admin) return;
    if (await em.count(Permission, { userId: admin.id, roleId: superUserRoleId, objectType: 'system' })) return;
    await this.addPermission({ roleId: superUserRoleId, userId: admin.id, objectType: 'system', objectId: null });
  }

  /** Whether the role may be given: an administrative role only by an administrator. */
  static grantable(roleId: string, granterIsAdministrator: boolean): boolean {
    return granterIsAdministrator || !isAdministrativeRole(roleId);
  }

  private async requireObject(type: GuardedObject, id: string): Promise<void> {
    if (type === 'vm') await this.records.settled();
    const [row] = await selectRows<{ count: number | string }>(reader(this.orm), `select count(*) as count from ${objectTables[type]} where id = ?`, [id]);
    if (!row || Number(row.count) === 0) throw notFound(type.replace('_', ' '), id);
  }
}
