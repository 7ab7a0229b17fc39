import { Migration } from '@mikro-orm/migrations';

/**
 * The audit log: one row per event, with an id the controller gives in
 * increasing order (a later event has a greater id; see state/event-log.ts),
 * the object it is about and what changed, and the ids and names of the VM
 * and host it concerns, kept with the event so that a search by name still
 * finds it after the object is gone. External events are unique by origin
 * and custom id, as in oVirt.
 */
export class Migration20261208020000_events extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table events (
      id bigint not null primary key,
      time bigint not null,
      code integer not null,
      severity varchar(16) not null,
      description text not null,
      correlation_id varchar(255) null,
      origin varchar(255) not null,
      custom_id integer null,
      object_type varchar(64) null,
      object_id varchar(64) null,
      change varchar(16) null,
      status varchar(64) null,
      vm_id varchar(36) null,
      vm_name varchar(255) null,
      host_id varchar(36) null,
      host_name varchar(255) null,
      cluster_id varchar(36) null,
      data_center_id varchar(36) null,
      storage_domain_id varchar(36) null,
      template_id varchar(36) null,
      user_id varchar(36) null,
      user_name varchar(255) null
    )`);
    this.addSql('create index events_time_index on events (time)');
    this.addSql('create index events_vm_id_index on events (vm_id)');
    this.addSql('create index events_host_id_index on events (host_id)');
    this.addSql('create unique index events_external_index on events (origin, custom_id)');
  }
}
