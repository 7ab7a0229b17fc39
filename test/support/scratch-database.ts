import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type DatabaseConfig, type Orm } from '../../controller/db/orm.js';
import { temporaryDirectory } from './temporary-directory.js';

export type DatabaseKind = 'sqlite' | 'postgres';

/** The PostgreSQL server scratch databases are created on: DROVER_TEST_DATABASE_URL, or the local test server. */
export const postgresBaseUrl = process.env.DROVER_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** Where a controller finds its database: a postgres:// URL, or none for a SQLite file in dataDir. */
export type DatabaseLocation = Pick<DatabaseConfig, 'url' | 'dataDir'>;

/**
 * A new, empty database for one test or benchmark. For SQLite it is a new
 * directory, the controller's dataDir, where the controller creates its file;
 * for PostgreSQL it is a new database on the test server, with a new directory
 * all the same as the controller's dataDir.
 */
export interface ScratchDatabase extends DatabaseLocation {
  kind: DatabaseKind;
  /** Drops the PostgreSQL database and removes the directory; `keepFiles` leaves the directory (and a SQLite file in it) to look at. */
  drop(options?: { keepFiles?: boolean }): Promise<void>;
}

async function administer(sql: string): Promise<void> {
  const client = new pg.Client(postgresBaseUrl);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates a scratch database; `prefix` names its directory (drover-PREFIX-XXXXXX) and its PostgreSQL database (drover_PREFIX_HEX). */
export async function createScratchDatabase(kind: DatabaseKind, prefix: string): Promise<ScratchDatabase> {
  const directory = await temporaryDirectory(prefix);
  let url: string | undefined;
  let dropPostgres = async () => {};
  if (kind === 'postgres') {
    const name = `drover_${prefix.replace(/\W/g, '_')}_${randomBytes(6).toString('hex')}`;
    try {
      await administer(`create database ${name}`);
    } catch (error) {
      await directory.remove();
      throw error;
    }
    const location = new URL(postgresBaseUrl);
    location.pathname = `/${name}`;
    url = location.toString();
    dropPostgres = () => administer(`drop database if exists ${name} with (force)`);
  }
  return {
    kind,
    url,
    dataDir: directory.path,
    async drop(options = {}) {
      await dropPostgres();
      if (!options.keepFiles) await directory.remove();
    },
  };
}

/** The controller's database, migrated, on a scratch database that the test's teardown closes and drops. */
export async function openScratchDatabase(t: { teardown: (fn: () => Promise<void>) => void }, kind: DatabaseKind, prefix: string): Promise<Orm> {
  const database = await createScratchDatabase(kind, prefix);
  const orm = await openDatabase(database).catch(async (error: unknown) => {
    await database.drop();
    throw error;
  });
  t.teardown(async () => {
    await orm.close();
    await database.drop();
  });
  return orm;
}
