import { Migration } from '@mikro-orm/migrations';

/** Hosts say which domain type their guests run as (kvm, qemu under emulation, or test); hosts registered before learn it at their next hello. */
export class Migration20261206100000_host_domain_type extends Migration {
  override async up(): Promise<void> {
    this.addSql("alter table hosts add column domain_type varchar(255) not null default ''");
  }
}
