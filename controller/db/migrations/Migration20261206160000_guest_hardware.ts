import { Migration } from '@mikro-orm/migrations';

/** VMs and templates keep their CPU mode and model, machine type and firmware; VMs keep their cloud-init settings. Existing rows leave all of them to the host. */
export class Migration20261206160000_guest_hardware extends Migration {
  override async up(): Promise<void> {
    for (const table of ['vms', 'templates']) {
      this.addSql(`alter table ${table} add column cpu_mode varchar(32) null`);
      this.addSql(`alter table ${table} add column custom_cpu_model varchar(64) null`);
      this.addSql(`alter table ${table} add column custom_emulated_machine varchar(64) null`);
      this.addSql(`alter table ${table} add column bios_type varchar(32) null`);
    }
    this.addSql('alter table vms add column initialization text null');
  }
}
