import { randomUUID } from 'node:crypto';
import { Migration } from '@mikro-orm/migrations';

export class Migration20261122000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table data_centers (
      id varchar(36) not null primary key,
      name varchar(255) not null unique,
      description text not null default '',
      local boolean not null default false,
      created_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`create table clusters (
      id varchar(36) not null primary key,
      name varchar(255) not null unique,
      description text not null default '',
      data_center_id varchar(36) not null references data_centers (id),
      cpu_architecture varchar(255) not null default 'x86_64',
      created_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`create index clusters_data_center_id_index on clusters (data_center_id)`);
    this.addSql(`create table hosts (
      id varchar(36) not null primary key,
      name varchar(255) not null unique,
      address varchar(255) not null default '',
      cluster_id varchar(36) not null references clusters (id),
      status varchar(32) not null,
      cpu_count integer not null default 0,
      cpu_model varchar(255) not null default '',
      memory_bytes bigint not null default 0,
      libvirt_version varchar(64) not null default '',
      hypervisor_type varchar(64) not null default '',
      hypervisor_version varchar(64) not null default '',
      libvirt_uri varchar(1024) not null default '',
      agent_version varchar(64) not null default '',
      registered_at bigint not null,
      last_seen_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`create index hosts_cluster_id_index on hosts (cluster_id)`);
    this.addSql(`create table vms (
      id varchar(36) not null primary key,
      name varchar(255) not null unique,
      description text not null default '',
      memory_bytes bigint not null,
      cpu_sockets integer not null,
      cpu_cores integer not null,
      cpu_threads integer not null,
      os_type varchar(64) not null,
      display_type varchar(16) not null,
      cluster_id varchar(36) not null references clusters (id),
      host_id varchar(36) null references hosts (id),
      power_state varchar(32) null,
      power_state_at bigint null,
      desired_state varchar(32) not null,
      created_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`create index vms_cluster_id_index on vms (cluster_id)`);
    this.addSql(`create index vms_host_id_index on vms (host_id)`);
    this.addSql(`create table tasks (
      id varchar(36) not null primary key,
      seq bigint not null unique,
      vm_id varchar(36) null,
      host_id varchar(36) null,
      action varchar(32) not null,
      command_kind varchar(32) null,
      state varchar(16) not null,
      correlation_id varchar(255) null,
      created_at bigint not null,
      started_at bigint null,
      ended_at bigint null,
      error_kind varchar(32) null,
      error_reason text null,
      error_detail text null)`);
    this.addSql(`create index tasks_vm_id_seq_index on tasks (vm_id, seq)`);
    this.addSql(`create index tasks_state_index on tasks (state)`);
    this.addSql(`create table users (
      id varchar(36) not null primary key,
      name varchar(255) not null unique,
      password_hash varchar(255) not null,
      created_at bigint not null)`);
    this.addSql(`create table access_tokens (
      token_hash varchar(64) not null primary key,
      user_id varchar(36) not null references users (id) on delete cascade,
      created_at bigint not null,
      expires_at bigint not null)`);
    this.addSql(`create index access_tokens_user_id_index on access_tokens (user_id)`);

    const now = Date.now();
    const dataCenterId = randomUUID();
    this.addSql(`insert into data_centers (id, name, description, local, created_at, updated_at)
      values ('${dataCenterId}', 'Default', 'The default Data Center', false, ${now}, ${now})`);
    this.addSql(`insert into clusters (id, name, description, data_center_id, cpu_architecture, created_at, updated_at)
      values ('${randomUUID()}', 'Default', 'The default server cluster', '${dataCenterId}', 'x86_64', ${now}, ${now})`);
  }
}
