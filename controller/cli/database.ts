import { configFromEnvironment } from '../config.js';
import { openDatabase, type Orm } from '../db/orm.js';

/** Opens the controller's database, as the controller's environment configures it, for the length of `use`. */
export async function withDatabase<T>(use: (orm: Orm) => Promise<T>): Promise<T> {
  const config = configFromEnvironment();
  const orm = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    return await use(orm);
  } finally {
    await orm.close();
  }
}
