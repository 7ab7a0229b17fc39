import { Migration } from '@mikro-orm/migrations';

/**
 * Hosts keep the administrative state their administrator set (active,
 * preparing_for_maintenance, maintenance); existing hosts are active. VMs
 * keep oVirt's high_availability (enabled, priority) and
 * placement_policy.affinity; existing VMs are not highly available and
 * migratable, as oVirt's defaults and Drover's fixed values were.
 */
export class Migration20261207000000_host_maintenance extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table hosts add column admin_state varchar(32) not null default 'active'");
    this.addSql('alter table vms add column highly_available boolean not null default false');
    this.addSql('alter table vms add column high_availability_priority integer not null default 0');
    this.addSql("alter table vms add column migration_affinity varchar(32) not null default 'migratable'");
  }
}
