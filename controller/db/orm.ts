import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { MikroORM, type Options } from '@mikro-orm/core';
import { SqliteDriver } from '@mikro-orm/sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { entitySchemas } from './entities.js';
import { Migration20261122000000_initial } from './migrations/Migration20261122000000_initial.js';
import { Migration20261124000000_resources } from './migrations/Migration20261124000000_resources.js';
import { Migration20261125000000_search_indexes } from './migrations/Migration20261125000000_search_indexes.js';
import { Migration20261201000000_row_versions } from './migrations/Migration20261201000000_row_versions.js';
import { Migration20261206000000_vm_locations } from './migrations/Migration20261206000000_vm_locations.js';
import { Migration20261206100000_host_domain_type } from './migrations/Migration20261206100000_host_domain_type.js';
import { Migration20261206110000_host_status_detail_and_duplicate_vms } from './migrations/Migration20261206110000_host_status_detail_and_duplicate_vms.js';
import { Migration20261206130000_task_descriptions } from './migrations/Migration20261206130000_task_descriptions.js';
import { Migration20261206150000_cdrom_and_boot } from './migrations/Migration20261206150000_cdrom_and_boot.js';
import { Migration20261206160000_guest_hardware } from './migrations/Migration20261206160000_guest_hardware.js';
import { Migration20261206200000_trust } from './migrations/Migration20261206200000_trust.js';
import { Migration20261206220000_rbac } from './migrations/Migration20261206220000_rbac.js';
import { Migration20261207000000_host_maintenance } from './migrations/Migration20261207000000_host_maintenance.js';
import { Migration20261207010000_migrations } from './migrations/Migration20261207010000_migrations.js';
import { Migration20261208000000_tags } from './migrations/Migration20261208000000_tags.js';
import { Migration20261208010000_jobs } from './migrations/Migration20261208010000_jobs.js';
import { Migration20261208020000_events } from './migrations/Migration20261208020000_events.js';

export const migrationsList = [
  { name: 'Migration20261122000000_initial', class: Migration20261122000000_initial },
  { name: 'Migration20261124000000_resources', class: Migration20261124000000_resources },
  { name: 'Migration20261125000000_search_indexes', class: Migration20261125000000_search_indexes },
  { name: 'Migration20261201000000_row_versions', class: Migration20261201000000_row_versions },
  { name: 'Migration20261206000000_vm_locations', class: Migration20261206000000_vm_locations },
  { name: 'Migration20261206100000_host_domain_type', class: Migration20261206100000_host_domain_type },
  { name: 'Migration20261206110000_host_status_detail_and_duplicate_vms', class: Migration20261206110000_host_status_detail_and_duplicate_vms },
  { name: 'Migration20261206130000_task_descriptions', class: Migration20261206130000_task_descriptions },
  { name: 'Migration20261206150000_cdrom_and_boot', class: Migration20261206150000_cdrom_and_boot },
  { name: 'Migration20261206160000_guest_hardware', class: Migration20261206160000_guest_hardware },
  { name: 'Migration20261206200000_trust', class: Migration20261206200000_trust },
  { name: 'Migration20261206220000_rbac', class: Migration20261206220000_rbac },
  { name: 'Migration20261207000000_host_maintenance', class: Migration20261207000000_host_maintenance },
  { name: 'Migration20261207010000_migrations', class: Migration20261207010000_migrations },
  { name: 'Migration20261208000000_tags', class: Migration20261208000000_tags },
  { name: 'Migration20261208010000_jobs', class: Migration20261208010000_jobs },
  { name: 'Migration20261208020000_events', class: Migration20261208020000_events },
];

export interface DatabaseConfig {
  /** A postgres:// URL, or undefined for a SQLite file in dataDir. */
  url?: string;
  dataDir: string;
  debug?: boolean;
}

export type Orm = MikroORM;

export async function openDatabase(config: DatabaseConfig): Promise<Orm> {
  const common: Partial<Options> = {
    entities: entitySchemas,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    allowGlobalContext: false,
    debug: config.debug ?? false,
    discovery: { warnWhenNoEntities: false },
  };
  let orm: Orm;
  if (config.url && /^postgres(ql)?:\/\//.test(config.url)) {
    orm = await MikroORM.init({ ...common, driver: PostgreSqlDriver, clientUrl: config.url, pool: { min: 1, max: 10 } } as Options);
  } else if (config.url) {
    throw new Error(`DROVER_DATABASE_URL must be a postgres:// URL (or unset for SQLite); got ${config.url}`);
  } else {
    mkdirSync(config.dataDir, { recursive: true });
    orm = await MikroORM.init({ ...common, driver: SqliteDriver, dbName: path.join(config.dataDir, 'drover.sqlite') } as Options);
    const connection = orm.em.getConnection();
    await connection.execute('pragma journal_mode = wal');
    await connection.execute('pragma synchronous = normal');
    await connection.execute('pragma busy_timeout = 5000');
    await connection.execute('pragma case_sensitive_like = on');
  }
  await orm.getMigrator().up();
  return orm;
}
