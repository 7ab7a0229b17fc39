import { Migration } from '@mikro-orm/migrations';

/**
 * A VM is on record on a host before any command that may define it there
 * is sent: a task row that names a VM and a host (stored before its command
 * is sent, or given its host before the command is sent) records that host
 * on the VM, in the same statement, when the VM has none. A controller that
 * crashes after sending the command therefore finds the VM on that host when
 * it starts again, and never places it elsewhere until the host reports.
 */
export class Migration20261206000000_vm_locations extends Migration {
  override async up(): Promise<void> {
    const postgres = this.driver.getPlatform().getConfig().get('clientUrl')?.startsWith('postgres') ?? false;
    if (postgres) {
      this.addSql(`create function drover_record_vm_location() returns trigger language plpgsql as $$
        begin
          if new.vm_id is not null and new.host_id is not null then
            update vms set host_id = new.host_id where id = new.vm_id and host_id is null;
          end if;
          return new;
        end
      $$`);
      this.addSql('create trigger tasks_vm_location after insert or update of host_id on tasks for each row execute function drover_record_vm_location()');
    } else {
      const body = 'begin update vms set host_id = new.host_id where id = new.vm_id and host_id is null; end';
      this.addSql(`create trigger tasks_vm_location_on_insert after insert on tasks for each row when new.vm_id is not null and new.host_id is not null ${body}`);
      this.addSql(`create trigger tasks_vm_location_on_update after update of host_id on tasks for each row when new.vm_id is not null and new.host_id is not null ${body}`);
    }
  }
}
