import type { AbstractSqlConnection } from '@mikro-orm/knex';
import { noteStatement } from './dialect.js';

interface PooledClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
}

interface SqliteStatement {
  all(params: unknown[], callback: (error: Error | null, rows: unknown[]) => void): void;
  finalize(): void;
}

interface SqliteDatabase {
  prepare(sql: string, callback: (error: Error | null) => void): SqliteStatement;
}

interface PostgresClient {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** Prepared statements kept per SQLite connection, most recently used last. */
const preparedStatements = new WeakMap<object, Map<string, SqliteStatement>>();
const preparedPerConnection = 256;

async function sqliteRows(database: SqliteDatabase, sql: string, params: unknown[]): Promise<unknown[]> {
  let cache = preparedStatements.get(database);
  if (!cache) preparedStatements.set(database, (cache = new Map()));
  let statement = cache.get(sql);
  if (statement) {
    cache.delete(sql);
  } else {
    statement = await new Promise<SqliteStatement>((resolve, reject) => {
      const prepared = database.prepare(sql, (error) => (error ? reject(error) : resolve(prepared)));
    });
    if (cache.size >= preparedPerConnection) {
      const [oldestSql, oldest] = cache.entries().next().value as [string, SqliteStatement];
      cache.delete(oldestSql);
      oldest.finalize();
    }
  }
  cache.set(sql, statement);
  return new Promise((resolve, reject) => statement.all(params, (error, rows) => (error ? reject(error) : resolve(rows))));
}

function positioned(sql: string): string {
  let index = 0;
  return sql.replace(/\?/g, () => `$${++index}`);
}

/**
 * Names for PostgreSQL's prepared statements, by SQL text: the driver parses
 * a named statement once per connection. Only writes are named (their plans
 * do not depend on the values), and at most `namedTexts` of them.
 */
const statementNames = new Map<string, string>();
const namedTexts = 200;

function postgresQuery(sql: string, params: unknown[]): { name?: string; text: string; values: unknown[] } {
  let name = statementNames.get(sql);
  if (!name && statementNames.size < namedTexts && /^(insert|update) /.test(sql)) statementNames.set(sql, (name = `drover_${statementNames.size}`));
  return { name, text: positioned(sql), values: params };
}

/**
 * Runs one statement, outside any transaction, on a connection of the ORM's
 * pool, through the database driver itself: no query builder on the way, and
 * a statement prepared once per connection and SQL text (on PostgreSQL,
 * writes only; see postgresQuery). The hot paths (a task's rows,
 * written-behind VM changes) issue a few such statements per request, where
 * the builder cost as much as the database. Parameters are `?` placeholders,
 * as for the ORM's raw queries.
 */
export async function runDirect(connection: AbstractSqlConnection, sql: string, params: readonly unknown[]): Promise<unknown[]> {
  const client = connection.getKnex().client as unknown as PooledClient;
  const driverConnection = await client.acquireConnection();
  noteStatement();
  try {
    if (typeof (driverConnection as SqliteDatabase).prepare === 'function') return await sqliteRows(driverConnection as SqliteDatabase, sql, [...params]);
    return (await (driverConnection as PostgresClient).query(postgresQuery(sql, [...params]))).rows;
  } finally {
    await client.releaseConnection(driverConnection);
  }
}
