import { UniqueConstraintViolationException, type EntityClass, type EntityManager, type FilterQuery } from '@mikro-orm/core';
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import type { Orm } from './orm.js';
import { runDirect } from './direct.js';
import { conflict, notFound } from '../rules/errors.js';

/** Runs work in a fresh unit of work and flushes it in one transaction. */
export async function inTransaction<T>(orm: Orm, work: (em: EntityManager) => Promise<T>): Promise<T> {
  try {
    return await orm.em.fork().transactional(work);
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw conflict(`an object with that name already exists`);
    throw error;
  }
}

export function reader(orm: Orm): EntityManager {
  return orm.em.fork();
}

const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** Updates one row with a parameterized statement, skipping the unit of work; keys are entity property names. */
export async function updateRow(orm: Orm, table: string, keyColumn: string, key: string, patch: object): Promise<void> {
  const entries = Object.entries(patch).filter(([, value]) => value !== undefined);
  if (entries.length === 0) return;
  await runSql(orm, `update ${table} set ${entries.map(([name]) => `${snake(name)} = ?`).join(', ')} where ${keyColumn} = ?`, [...entries.map(([, value]) => value), key]);
}

/**
 * Updates many rows, each with its own patch, in one statement per set of
 * patched columns (at most `rowsPerStatement` rows each); keys are entity
 * property names.
 */
export async function updateRows(orm: Orm, table: string, keyColumn: string, patches: ReadonlyMap<string, object>, rowsPerStatement = 200): Promise<void> {
  const groups = new Map<string, { columns: string[]; rows: Array<[string, unknown[]]> }>();
  for (const [key, patch] of patches) {
    const entries = Object.entries(patch).filter(([, value]) => value !== undefined);
    if (entries.length === 0) continue;
    entries.sort(([a], [b]) => (a < b ? -1 : 1));
    const columns = entries.map(([name]) => snake(name));
    const signature = columns.join(',');
    const group = groups.get(signature) ?? { columns, rows: [] };
    group.rows.push([key, entries.map(([, value]) => value)]);
    groups.set(signature, group);
  }
  for (const { columns, rows } of groups.values()) {
    for (let from = 0; from < rows.length; from += rowsPerStatement) {
      const chunk = rows.slice(from, from + rowsPerStatement);
      const whens = chunk.map(() => 'when ? then ?').join(' ');
      const assignments = columns.map((column) => `${column} = case ${keyColumn} ${whens} else ${column} end`).join(', ');
      const params = columns.flatMap((_, index) => chunk.flatMap(([key, values]) => [key, values[index]]));
      params.push(...chunk.map(([key]) => key));
      await runSql(orm, `update ${table} set ${assignments} where ${keyColumn} in (${chunk.map(() => '?').join(', ')})`, params);
    }
  }
}

/** Inserts one row with a parameterized statement; keys are entity property names. */
export async function insertRow(orm: Orm, table: string, row: object): Promise<void> {
  const entries = Object.entries(row).filter(([, value]) => value !== undefined);
  await runSql(orm, `insert into ${table} (${entries.map(([name]) => snake(name)).join(', ')}) values (${entries.map(() => '?').join(', ')})`, entries.map(([, value]) => value));
}

/** A reference to another object as API clients give it: by id, or else by name. */
export interface Reference {
  id?: string;
  name?: string;
}

export async function findReferenced<T extends { id: string; name: string }>(em: EntityManager, entity: EntityClass<T>, reference: Reference, what: string): Promise<T> {
  const where = (reference.id ? { id: reference.id } : { name: reference.name ?? '' }) as unknown as FilterQuery<T>;
  const found = await em.findOne(entity, where);
  if (!found) throw notFound(what, reference.id ?? reference.name ?? '');
  return found;
}

/**
 * Runs one statement with its parameters bound by the database driver (the
 * ORM's own `execute` writes parameters into the SQL text instead) and
 * returns the rows: inside the entity manager's transaction when given one
 * that is in a transaction, and otherwise outside any.
 */
async function runSql(on: Orm | EntityManager, sql: string, params: unknown[]): Promise<unknown[]> {
  const em = 'em' in on ? on.em : on;
  const connection = em.getConnection() as unknown as AbstractSqlConnection;
  const transaction = 'em' in on ? undefined : on.getTransactionContext();
  try {
    if (!transaction) return await runDirect(connection, sql, params);
    const result = (await connection.getKnex().raw(sql, params as never[]).transacting(transaction)) as unknown[] | { rows: unknown[] };
    return Array.isArray(result) ? result : result.rows;
  } catch (error) {
    throw connection.getPlatform().getExceptionConverter().convertException(error as Error);
  }
}

/** Runs a parameterized query and returns its rows as T; inside a transaction when `on` is an entity manager in one. */
export async function selectRows<T>(on: Orm | EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await runSql(on, sql, params)) as T[];
}

/** Runs a parameterized statement; inside a transaction when `on` is an entity manager in one. */
export async function runStatement(on: Orm | EntityManager, sql: string, params: unknown[] = []): Promise<void> {
  await runSql(on, sql, params);
}
