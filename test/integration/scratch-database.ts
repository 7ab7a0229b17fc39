import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Orm } from '../../controller/db/orm.js';
import { createPostgresDatabase, type DatabaseKind } from './harness.js';

/** The controller's database, migrated, in a new SQLite file or PostgreSQL database that the test's teardown removes. */
export async function scratchDatabase(t: { teardown: (fn: () => Promise<void>) => void }, kind: DatabaseKind, prefix: string): Promise<Orm> {
  const directory = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  const postgres = kind === 'postgres' ? await createPostgresDatabase(prefix.replace(/-/g, '_')) : undefined;
  const orm = await openDatabase({ url: postgres?.url, dataDir: directory });
  t.teardown(async () => {
    await orm.close();
    await postgres?.drop();
    await rm(directory, { recursive: true, force: true });
  });
  return orm;
}
