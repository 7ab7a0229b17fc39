import { randomBytes, randomUUID } from 'node:crypto';
import { Migration } from '@mikro-orm/migrations';

const blankTemplateId = '00000000-0000-0000-0000-000000000000';

/** A locally administered unicast range of 65,536 addresses, different per installation, as oVirt's setup makes one. */
function defaultMacRange(): { from: string; to: string } {
  const [a, b] = [...randomBytes(2)].map((byte) => byte.toString(16).padStart(2, '0'));
  return { from: `56:6f:${a}:${b}:00:00`, to: `56:6f:${a}:${b}:ff:ff` };
}

/**
 * Storage domains, disks and their attachments, MAC pools, networks, vNIC
 * profiles and NICs, templates and VM pools; tasks on any of these objects.
 */
export class Migration20261124000000_resources extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table mac_pools (
      id varchar(36) not null primary key,
      name varchar(255) not null unique,
      description text not null default '',
      allow_duplicates boolean not null default false,
      default_pool boolean not null default false,
      ranges text not null,
      created_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`alter table clusters add column mac_pool_id varchar(36) not null default ''`);

    this.addSql(`create table storage_domains (
      id varchar(36) not null primary key,
      name varchar(255) not null unique,
      description text not null default '',
      storage_type varchar(16) not null,
      address varchar(255) not null default '',
      path varchar(4096) not null,
      host_id varchar(36) null,
      data_center_id varchar(36) null references data_centers (id),
      status varchar(16) not null,
      available_bytes bigint null,
      used_bytes bigint null,
      reported_at bigint null,
      created_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`create index storage_domains_data_center_id_index on storage_domains (data_center_id)`);
    this.addSql(`create index storage_domains_host_id_index on storage_domains (host_id)`);

    this.addSql(`create table templates (
      id varchar(36) not null primary key,
      name varchar(255) not null unique,
      description text not null default '',
      cluster_id varchar(36) null references clusters (id),
      memory_bytes bigint not null,
      cpu_sockets integer not null,
      cpu_cores integer not null,
      cpu_threads integer not null,
      os_type varchar(64) not null,
      display_type varchar(16) not null,
      status varchar(16) not null,
      source_vm_id varchar(36) null,
      created_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`create index templates_cluster_id_index on templates (cluster_id)`);

    this.addSql(`create table disks (
      id varchar(36) not null primary key,
      name varchar(255) not null,
      description text not null default '',
      storage_domain_id varchar(36) not null references storage_domains (id),
      provisioned_size bigint not null,
      actual_size bigint not null default 0,
      format varchar(8) not null,
      sparse boolean not null,
      status varchar(16) not null,
      parent_disk_id varchar(36) null references disks (id),
      template_id varchar(36) null references templates (id),
      created_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`create index disks_storage_domain_id_index on disks (storage_domain_id)`);
    this.addSql(`create index disks_parent_disk_id_index on disks (parent_disk_id)`);
    this.addSql(`create index disks_template_id_index on disks (template_id)`);
    this.addSql(`create index disks_name_index on disks (name)`);

    this.addSql(`create table vm_pools (
      id varchar(36) not null primary key,
      name varchar(255) not null unique,
      description text not null default '',
      cluster_id varchar(36) not null references clusters (id),
      template_id varchar(36) not null references templates (id),
      size integer not null,
      prestarted_vms integer not null,
      max_user_vms integer not null,
      pool_type varchar(16) not null,
      created_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`create index vm_pools_cluster_id_index on vm_pools (cluster_id)`);
    this.addSql(`create index vm_pools_template_id_index on vm_pools (template_id)`);

    this.addSql(`alter table vms add column template_id varchar(36) not null default '${blankTemplateId}'`);
    this.addSql(`alter table vms add column vm_pool_id varchar(36) null`);
    this.addSql(`alter table vms add column allocated_to varchar(36) null`);
    this.addSql(`create index vms_template_id_index on vms (template_id)`);
    this.addSql(`create index vms_vm_pool_id_index on vms (vm_pool_id)`);

    this.addSql(`create table disk_attachments (
      id varchar(36) not null primary key,
      disk_id varchar(36) not null references disks (id),
      vm_id varchar(36) null references vms (id),
      template_id varchar(36) null references templates (id),
      disk_interface varchar(16) not null,
      bootable boolean not null,
      active boolean not null,
      read_only boolean not null,
      created_at bigint not null)`);
    this.addSql(`create unique index disk_attachments_disk_id_vm_id_unique on disk_attachments (disk_id, vm_id)`);
    this.addSql(`create index disk_attachments_vm_id_index on disk_attachments (vm_id)`);
    this.addSql(`create index disk_attachments_template_id_index on disk_attachments (template_id)`);

    this.addSql(`create table networks (
      id varchar(36) not null primary key,
      name varchar(255) not null,
      description text not null default '',
      data_center_id varchar(36) not null references data_centers (id),
      vlan_id integer null,
      mtu integer not null default 0,
      created_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`create unique index networks_data_center_id_name_unique on networks (data_center_id, name)`);
    this.addSql(`create index networks_name_index on networks (name)`);

    this.addSql(`create table vnic_profiles (
      id varchar(36) not null primary key,
      name varchar(255) not null,
      description text not null default '',
      network_id varchar(36) not null references networks (id),
      port_mirroring boolean not null default false,
      created_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`create unique index vnic_profiles_network_id_name_unique on vnic_profiles (network_id, name)`);

    this.addSql(`create table nics (
      id varchar(36) not null primary key,
      name varchar(255) not null,
      vm_id varchar(36) null references vms (id),
      template_id varchar(36) null references templates (id),
      nic_interface varchar(16) not null,
      mac varchar(17) not null,
      mac_pool_id varchar(36) null references mac_pools (id),
      vnic_profile_id varchar(36) null references vnic_profiles (id),
      linked boolean not null,
      plugged boolean not null,
      created_at bigint not null,
      updated_at bigint not null)`);
    this.addSql(`create unique index nics_mac_pool_id_mac_unique on nics (mac_pool_id, mac)`);
    this.addSql(`create index nics_vm_id_index on nics (vm_id)`);
    this.addSql(`create index nics_template_id_index on nics (template_id)`);
    this.addSql(`create index nics_vnic_profile_id_index on nics (vnic_profile_id)`);

    this.addSql(`alter table tasks add column object_type varchar(16) not null default 'vm'`);
    this.addSql(`alter table tasks add column object_id varchar(36) not null default ''`);
    this.addSql(`alter table tasks add column params text null`);
    this.addSql(`update tasks set object_id = vm_id where vm_id is not null`);
    this.addSql(`create index tasks_object_id_seq_index on tasks (object_id, seq)`);

    const now = Date.now();
    const macPoolId = randomUUID();
    this.addSql(`insert into mac_pools (id, name, description, allow_duplicates, default_pool, ranges, created_at, updated_at)
      values ('${macPoolId}', 'Default', 'Default MAC pool', false, true, '${JSON.stringify([defaultMacRange()])}', ${now}, ${now})`);
    this.addSql(`update clusters set mac_pool_id = '${macPoolId}'`);
    this.addSql(`insert into templates (id, name, description, cluster_id, memory_bytes, cpu_sockets, cpu_cores, cpu_threads, os_type, display_type, status, created_at, updated_at)
      values ('${blankTemplateId}', 'Blank', 'Blank template', null, ${1024 ** 3}, 1, 1, 1, 'other', 'vnc', 'ok', ${now}, ${now})`);
    const networkId = randomUUID();
    this.addSql(`insert into networks (id, name, description, data_center_id, vlan_id, mtu, created_at, updated_at)
      select '${networkId}', 'ovirtmgmt', 'Management Network', id, null, 0, ${now}, ${now} from data_centers where name = 'Default'`);
    this.addSql(`insert into vnic_profiles (id, name, description, network_id, port_mirroring, created_at, updated_at)
      select '${randomUUID()}', 'ovirtmgmt', '', id, false, ${now}, ${now} from networks where id = '${networkId}'`);
  }
}
