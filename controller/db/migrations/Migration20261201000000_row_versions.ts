import { Migration } from '@mikro-orm/migrations';

/** The tables whose rows carry a version; see the migration. */
export const versionedTables = ['clusters', 'data_centers', 'disks', 'disk_attachments', 'nics', 'networks', 'vnic_profiles', 'mac_pools', 'templates', 'vm_pools'] as const;

/**
 * A `version` on the rows of the tables whose objects are presented from
 * their row alone: 0 when inserted, and one more on every update, kept by a
 * trigger so that no write path can forget it. With the object's id (ids are
 * random UUIDs, never reused), it names the object's state, so that a
 * document rendered from it can be reused while it is unchanged.
 */
export class Migration20261201000000_row_versions extends Migration {
  override async up(): Promise<void> {
    const postgres = this.driver.getPlatform().getConfig().get('clientUrl')?.startsWith('postgres') ?? false;
    if (postgres) {
      this.addSql(`create function drover_next_row_version() returns trigger language plpgsql as $$
        begin
          new.version := old.version + 1;
          return new;
        end
      $$`);
    }
    for (const table of versionedTables) {
      this.addSql(`alter table ${table} add column version integer not null default 0`);
      if (postgres) {
        this.addSql(`create trigger ${table}_version before update on ${table} for each row execute function drover_next_row_version()`);
      } else {
        this.addSql(`create trigger ${table}_version after update on ${table} for each row when new.version = old.version
          begin update ${table} set version = old.version + 1 where rowid = new.rowid; end`);
      }
    }
  }
}
