import { randomUUID } from 'node:crypto';
import { Migration } from '@mikro-orm/migrations';

/**
 * Groups of users, their members, and permissions (a role given to a user or
 * a group on an object). The admin user, if there is one already, holds
 * SuperUser on the system, as oVirt's admin@internal does.
 */
export class Migration20261206220000_rbac extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table user_groups (
      id varchar(36) not null primary key,
      name varchar(255) not null unique,
      created_at bigint not null)`);
    this.addSql(`create table group_members (
      group_id varchar(36) not null,
      user_id varchar(36) not null,
      primary key (group_id, user_id))`);
    this.addSql(`create index group_members_user_id_index on group_members (user_id)`);
    this.addSql(`create table permissions (
      id varchar(36) not null primary key,
      role_id varchar(36) not null,
      user_id varchar(36) null,
      group_id varchar(36) null,
      object_type varchar(32) not null,
      object_id varchar(36) null,
      created_at bigint not null)`);
    this.addSql(`create index permissions_user_id_index on permissions (user_id)`);
    this.addSql(`create index permissions_group_id_index on permissions (group_id)`);
    this.addSql(`create index permissions_object_id_index on permissions (object_id)`);
    this.addSql(`insert into permissions (id, role_id, user_id, group_id, object_type, object_id, created_at)
      select '${randomUUID()}', '00000000-0000-0000-0000-000000000001', u.id, null, 'system', null, ${Date.now()} from users u where u.name = 'admin@internal'`);
  }
}
