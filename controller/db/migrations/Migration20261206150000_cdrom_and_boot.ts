import { Migration } from '@mikro-orm/migrations';

/**
 * VMs get a boot order (VMs made before it keep the order they booted in) and
 * a CD-ROM drive, whose medium (a file of a storage domain's ISO directory) is
 * a row of vm_cdroms; a VM without a row has an empty drive. A medium goes
 * with its VM, and with its storage domain when that is removed.
 */
export class Migration20261206150000_cdrom_and_boot extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table vms add column boot_devices varchar(64) not null default 'hd,cdrom,network'");
    this.addSql(`create table vm_cdroms (
      vm_id varchar(36) not null primary key references vms (id) on delete cascade,
      storage_domain_id varchar(36) not null references storage_domains (id) on delete cascade,
      file_name varchar(255) not null
    )`);
    this.addSql('create index vm_cdroms_storage_domain_id_index on vm_cdroms (storage_domain_id)');
  }
}
