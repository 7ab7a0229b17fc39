import { randomUUID } from 'node:crypto';
import { Migration } from '@mikro-orm/migrations';

/** The tables of the objects permissions can be given on, with the object type permissions name them by. */
const objectTables = {
  data_centers: 'data_center',
  clusters: 'cluster',
  hosts: 'host',
  vms: 'vm',
  vm_pools: 'vm_pool',
  templates: 'template',
  storage_domains: 'storage_domain',
  disks: 'disk',
  networks: 'network',
} as const;

/**
 * Groups of users, their members, and permissions (a role given to a user or
 * a group on an object). The admin user, if there is one already, holds
 * SuperUser on the system, as oVirt's admin@internal does. A trigger on each
 * object table removes an object's permissions with it, whatever removes it.
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
    const postgres = this.driver.getPlatform().getConfig().get('clientUrl')?.startsWith('postgres') ?? false;
    if (postgres) {
      this.addSql(`create function drover_forget_permissions() returns trigger language plpgsql as $$
        begin
          delete from permissions where object_type = tg_argv[0] and object_id = old.id;
          return old;
        end
      $$`);
    }
    for (const [table, type] of Object.entries(objectTables)) {
      if (postgres) this.addSql(`create trigger ${table}_permissions after delete on ${table} for each row execute function drover_forget_permissions('${type}')`);
      else this.addSql(`create trigger ${table}_permissions after delete on ${table} for each row begin delete from permissions where object_type = '${type}' and object_id = old.id; end`);
    }
    this.addSql(`insert into permissions (id, role_id, user_id, group_id, object_type, object_id, created_at)
      select '${randomUUID()}', '00000000-0000-0000-0000-000000000001', u.id, null, 'system', null, ${Date.now()} from users u where u.name = 'admin@internal'`);
  }
}
