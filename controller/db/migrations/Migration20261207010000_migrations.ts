import { Migration } from '@mikro-orm/migrations';

/**
 * Live migration: every attempt to move a running VM is a row of its own,
 * written before each step's side effect, so a restarted controller knows
 * which attempts it must settle; and each host says where other hosts'
 * hypervisors reach it for a migration.
 */
export class Migration20261207010000_migrations extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table hosts add column migration_uri varchar(1024) not null default ''");
    this.addSql("alter table hosts add column migration_address varchar(255) not null default ''");
    this.addSql(`create table vm_migrations (
      id varchar(36) not null primary key,
      vm_id varchar(36) not null,
      task_id varchar(36) not null,
      source_host_id varchar(36) not null,
      destination_host_id varchar(36) not null,
      state varchar(255) not null,
      cancel_requested boolean not null default false,
      data_total_bytes bigint not null default 0,
      data_processed_bytes bigint not null default 0,
      data_remaining_bytes bigint not null default 0,
      failure text null,
      created_at bigint not null,
      updated_at bigint not null,
      ended_at bigint null
    )`);
    this.addSql('create index vm_migrations_vm_id_index on vm_migrations (vm_id)');
    this.addSql("create index vm_migrations_open_index on vm_migrations (state) where state in ('preparing', 'migrating')");
  }
}
