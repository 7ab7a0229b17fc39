import { Migration } from '@mikro-orm/migrations';

/**
 * Hosts say why they are in their status (a non-operational host names what
 * its agent reported, say), and a VM whose domain is active on a second
 * host besides its own (a migration in progress, or two copies) names that
 * host, so that its status and searches by status can say so.
 */
export class Migration20261206110000_host_status_detail_and_duplicate_vms extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table hosts add column status_detail text not null default ''");
    this.addSql('alter table vms add column duplicate_host_id varchar(36) null');
  }
}
