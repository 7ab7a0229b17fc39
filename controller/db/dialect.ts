import { AsyncLocalStorage } from 'node:async_hooks';
import type { Orm } from './orm.js';

/** What differs between SQLite and PostgreSQL in the SQL the controller writes itself. */
export interface Dialect {
  /** `column IN (the values of one array parameter)`, whatever the number of values; `count` of them lets the SQL suit the list's size. */
  inList(column: string, count: number, numeric?: boolean): string;
  /** Binds a list of ids for `inList`. */
  listParam(values: readonly string[]): unknown;
  /** The collation clause that makes text comparisons and ordering go by code point. */
  codePointOrder: string;
  /** What puts nulls last in ascending order and first in descending order (PostgreSQL's default). */
  nullsLast(direction: 'asc' | 'desc'): string;
  /** A SQL expression that makes one JSON object of a row's values: each member name with the SQL expression that gives its value. */
  jsonObject(members: readonly (readonly [string, string])[]): string;
  /** A SQL expression that makes one JSON array of the values of the SQL expressions. */
  jsonArray(values: readonly string[]): string;
  /**
   * An aggregate that makes the JSON values of `expression` over the rows of
   * a query into the text of one JSON array, in the order of `orderBy`.
   * Reading rows as one text costs the driver one value instead of one per
   * column and row.
   */
  jsonArrayText(expression: string, orderBy?: string): string;
}

const jsonMembers = (members: readonly (readonly [string, string])[]) => members.map(([name, value]) => `'${name}', ${value}`).join(', ');

const sqlite: Dialect = {
  inList: (column) => `${column} in (select value from json_each(?))`,
  listParam: (values) => JSON.stringify(values),
  codePointOrder: '',
  nullsLast: (direction) => (direction === 'asc' ? ' nulls last' : ' nulls first'),
  jsonObject: (members) => `json_object(${jsonMembers(members)})`,
  jsonArray: (values) => `json_array(${values.join(', ')})`,
  jsonArrayText: (expression, orderBy) => `'[' || coalesce(group_concat(${expression}, ','${orderBy ? ` order by ${orderBy}` : ''}), '') || ']'`,
};

const postgres: Dialect = {
  // A short list is best probed through the column's index (= any of an array); for a long one, PostgreSQL's
  // hash semi-join over the set is twice as fast (10,000 ids: 21 ms against 43 ms).
  inList: (column, count, numeric = false) => {
    const element = numeric ? 'jsonb_array_elements_text(?::jsonb)::bigint' : 'jsonb_array_elements_text(?::jsonb)';
    return count > 1000 ? `${column} in (select ${element})` : `${column} = any(array(select ${element}))`;
  },
  listParam: (values) => JSON.stringify(values),
  codePointOrder: ' collate "C"',
  nullsLast: () => '',
  jsonObject: (members) => `json_build_object(${jsonMembers(members)})`,
  jsonArray: (values) => `json_build_array(${values.join(', ')})`,
  jsonArrayText: (expression, orderBy) => `coalesce(json_agg(${expression}${orderBy ? ` order by ${orderBy}` : ''}), '[]')::text`,
};

export function dialectOf(orm: Orm): Dialect {
  return orm.config.get('clientUrl')?.startsWith('postgres') ? postgres : sqlite;
}

const statements = new AsyncLocalStorage<{ count: number }>();

/** Counts one statement for the work running under `counted`, if any: the query builder's (see countStatements) and those issued around it (see runDirect). */
export function noteStatement(): void {
  const counter = statements.getStore();
  if (counter) counter.count++;
}

/**
 * Counts the SQL statements each request issues, for tests and benchmarks
 * (DROVER_COUNT_STATEMENTS=1): `counted` runs work with a counter that every
 * statement issued on its behalf increments.
 */
export function countStatements(orm: Orm): void {
  const knex = (orm.em.getConnection() as unknown as { getKnex(): { on(event: string, listener: () => void): void } }).getKnex();
  knex.on('query', noteStatement);
}

export function counted<T>(work: (counter: { count: number }) => Promise<T>): Promise<T> {
  const counter = { count: 0 };
  return statements.run(counter, () => work(counter));
}
