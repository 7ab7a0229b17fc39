import type { Dialect } from '../db/dialect.js';
import { invalid } from '../rules/errors.js';
import { fieldNames, type Field, type Resource } from './catalog.js';
import { SearchError, checkFields, type Comparison, type Condition, type SearchQuery } from './search.js';

/** A piece of SQL with its parameters, in order. */
export interface Sql {
  text: string;
  params: unknown[];
}

export interface CompileOptions {
  caseSensitive: boolean;
  dialect: Dialect;
}

const numberPattern = /^-?[0-9]+(\.[0-9]+)?$/;

function fault(position: number, message: string): never {
  throw invalid(`search: ${new SearchError(position, message).message}`);
}

/** Turns a wildcard pattern (`*` any run, `\*` a star, `\\` a backslash) into a LIKE pattern with `\` as its escape. */
export function likePattern(pattern: string): string {
  let like = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index]!;
    if (char === '*') like += '%';
    else if (char === '\\' && index + 1 < pattern.length) like += escapeLike(pattern[++index]!);
    else like += escapeLike(char);
  }
  return like;
}

function escapeLike(char: string): string {
  return char === '%' || char === '_' || char === '\\' ? `\\${char}` : char;
}

/**
 * Compiles one comparison on a field's SQL expression. Text compares as
 * lower-cased text unless case-sensitive, and by code point; numbers and
 * booleans are bound as such. Values only ever travel as parameters.
 */
function comparison(expression: string, field: Field, condition: Extract<Condition, { kind: 'compare' }>, options: CompileOptions): Sql {
  const { op, value, wildcard, position } = condition;
  const collate = options.dialect.codePointOrder;
  if (field.type === 'number') {
    if (wildcard) fault(position, `${condition.field} is a number; wildcards apply to text only`);
    if (!numberPattern.test(value)) fault(position, `${condition.field} is a number, not "${value}"`);
    return { text: `${expression} ${op === '!=' ? '<>' : op} ?`, params: [Number(value)] };
  }
  if (field.type === 'boolean') {
    if (op !== '=' && op !== '!=') fault(position, `${condition.field} is true or false; it only takes = and !=`);
    if (!/^(true|false)$/i.test(value)) fault(position, `${condition.field} is true or false, not "${value}"`);
    return { text: `${expression} ${op === '=' ? '=' : '<>'} ?`, params: [value.toLowerCase() === 'true'] };
  }
  const subject = options.caseSensitive ? expression : `lower(${expression})`;
  const bound = options.caseSensitive ? '?' : 'lower(?)';
  if (wildcard) {
    if (op !== '=' && op !== '!=') fault(position, `wildcards apply to = and != only`);
    return { text: `${subject} ${op === '=' ? 'like' : 'not like'} ${bound} escape '\\'`, params: [likePattern(value)] };
  }
  // Equality needs no collation (and keeps to the plain expression indexes); ordering goes by code point.
  if (op === '=' || op === '!=') return { text: `${subject} ${op === '=' ? '=' : '<>'} ${bound}`, params: [value] };
  return { text: `${subject}${collate} ${op} ${bound}${collate}`, params: [value] };
}

const positive: Record<Comparison, boolean> = { '=': true, '!=': false, '<': true, '>': true, '<=': true, '>=': true };

function compileCondition(resource: Resource, condition: Condition, options: CompileOptions): Sql {
  if (condition.kind !== 'compare') {
    const left = compileCondition(resource, condition.left, options);
    const right = compileCondition(resource, condition.right, options);
    return { text: `(${left.text} ${condition.kind} ${right.text})`, params: [...left.params, ...right.params] };
  }
  const field = resource.fields.get(condition.field)!;
  if (field.kind === 'column') {
    const compared = comparison(field.sql, field, condition, options);
    // "Not equal" is "is not that value": a null field matches !=, as the reference evaluator says.
    return condition.op === '!=' ? { text: `(${field.sql} is null or ${compared.text})`, params: compared.params } : compared;
  }
  const inner = comparison(field.field, field, positive[condition.op] ? condition : { ...condition, op: '=' }, options);
  const members = `${field.key} in (${field.select} where ${inner.text})`;
  if (positive[condition.op]) return { text: `(${field.key} is not null and ${members})`, params: inner.params };
  // A subquery that also yields nulls (a template's attachment has no VM) makes "not in" unknown, so false, for
  // every row; the membership is taken as false when it is unknown.
  return { text: `(${field.key} is null or not coalesce(${members}, false))`, params: inner.params };
}

/** Compiles a parsed search's condition for a resource (the table aliased `t`); unknown fields are a 400 naming the valid ones. */
export function compileSearch(resource: Resource, query: SearchQuery, options: CompileOptions): { where?: Sql; orderBy: string[] } {
  try {
    checkFields(query, fieldNames(resource));
  } catch (error) {
    if (error instanceof SearchError) throw invalid(`search: ${error.message}`);
    throw error;
  }
  const where = query.where ? compileCondition(resource, query.where, options) : undefined;
  const orderBy = query.sortBy.map((item) => {
    const field = resource.fields.get(item.field)!;
    if (field.kind !== 'column') fault(item.position, `${item.field} names a related object; sort by a field of the ${resource.element} itself`);
    const expression = field.type === 'text' && !options.caseSensitive ? `lower(${field.sql})${options.dialect.codePointOrder}` : field.sql;
    return `${expression} ${item.direction}${options.dialect.nullsLast(item.direction)}`;
  });
  return { where, orderBy };
}

/** Compiles attribute filters (`?name=web1&memory=1073741824`, parameter name to value): exact matches, a `*` meaning itself. */
export function compileFilters(resource: Resource, filters: ReadonlyMap<string, string>, options: CompileOptions): Sql | undefined {
  const parts: Sql[] = [];
  for (const [name, value] of filters) {
    const key = name.toLowerCase();
    if (!resource.fields.has(key)) throw invalid(`query parameter ${name} is neither a known option nor a field of ${resource.element}; the fields are: ${fieldNames(resource).join(', ')}`);
    parts.push(compileCondition(resource, { kind: 'compare', field: key, op: '=', value, wildcard: false, position: 0 }, options));
  }
  if (parts.length === 0) return undefined;
  return { text: parts.map((part) => part.text).join(' and '), params: parts.flatMap((part) => part.params) };
}
