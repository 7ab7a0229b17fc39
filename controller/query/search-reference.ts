/**
 * The meaning of a search condition, written as a deliberately simple evaluator over one flat record.
 * Property tests compare the SQL compiler with it, so these rules are the contract both follow.
 *
 * A record maps lower-case field names to values; a missing field counts as null. Each field has a
 * type, `text` unless `options.types` says otherwise.
 *
 * - Text fields: `=` and `!=` compare the whole value. Unless `caseSensitive` is set, both sides are
 *   lower-cased first with the Unicode default case mapping (`String.prototype.toLowerCase`). When
 *   the condition has a wildcard, its value is a pattern (see search.ts): `*` matches any run of
 *   characters, also an empty one, `\*` a literal star and `\\` a literal backslash; `!=` is true
 *   exactly when `=` is false. `<`, `>`, `<=` and `>=` compare the two strings code point by code
 *   point (not UTF-16 unit by unit), after the same lower-casing.
 * - Number fields: the value must be a decimal number, an integer or a decimal fraction with an
 *   optional leading `-` (`-?[0-9]+(\.[0-9]+)?`), and every comparison is numeric. A wildcard on a
 *   number field is an error.
 * - Boolean fields: the value must be `true` or `false`, in any case, and only `=` and `!=` apply.
 * - Null values: `=` is false and every ordering comparison is false, as in SQL, but `!=` is true.
 *   "Not equal" means "is not that value": a VM without a host matches `host!=h1`, and it matches
 *   `host!=*` while it does not match `host=*`.
 *
 * Conditions the compiler must reject (a wildcard on a number or boolean field, an ordering on a
 * boolean field, a value that is not a number or boolean where one is needed) make this evaluator
 * throw a plain Error, so a property test can check that the two refuse the same conditions.
 *
 * Sorting ({@link compareForSort}) uses the same comparisons; false comes before true. Nulls come
 * last in ascending order, and reversing the order for descending puts them first, which is also
 * PostgreSQL's default.
 */

import type { Condition } from './search.js';

export type FieldType = 'text' | 'number' | 'boolean';
export type FieldValue = string | number | boolean | null;

export interface MatchOptions {
  caseSensitive: boolean;
  types: Record<string, FieldType>;
}

export function matches(condition: Condition, record: Record<string, FieldValue>, options: MatchOptions): boolean {
  if (condition.kind !== 'compare') {
    const left = matches(condition.left, record, options);
    return condition.kind === 'and' ? left && matches(condition.right, record, options) : left || matches(condition.right, record, options);
  }

  const field = condition.field.toLowerCase();
  const type = (Object.hasOwn(options.types, field) ? options.types[field] : undefined) ?? 'text';
  const actual = (Object.hasOwn(record, field) ? record[field] : undefined) ?? null;
  const { op, value, wildcard } = condition;
  if (type !== 'text' && wildcard) throw new Error(`a wildcard cannot be used on the ${type} field ${field}`);
  if (type === 'boolean' && op !== '=' && op !== '!=') throw new Error(`${op} cannot be used on the boolean field ${field}`);

  let wanted: string | number | boolean;
  if (type === 'number') {
    if (!/^-?[0-9]+(\.[0-9]+)?$/.test(value)) throw new Error(`${value} is not a number`);
    wanted = Number(value);
  } else if (type === 'boolean') {
    if (!/^(true|false)$/i.test(value)) throw new Error(`${value} is not true or false`);
    wanted = value.toLowerCase() === 'true';
  } else {
    wanted = value;
  }

  if (actual === null) return op === '!=';
  if (type === 'text' && wildcard) {
    const found = globMatch(fold(String(actual), options), fold(value, options));
    return op === '=' ? found : !found;
  }
  const order = compareValues(actual, wanted, type, options.caseSensitive);
  switch (op) {
    case '=': return order === 0;
    case '!=': return order !== 0;
    case '<': return order < 0;
    case '>': return order > 0;
    case '<=': return order <= 0;
    case '>=': return order >= 0;
  }
}

/** Orders two field values for sorting, ascending, with nulls last. */
export function compareForSort(a: FieldValue, b: FieldValue, type: FieldType, caseSensitive: boolean): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return compareValues(a, b, type, caseSensitive);
}

function compareValues(a: string | number | boolean, b: string | number | boolean, type: FieldType, caseSensitive: boolean): number {
  if (type === 'number') return Math.sign(Number(a) - Number(b));
  if (type === 'boolean') return Number(asBoolean(a)) - Number(asBoolean(b));
  const options = { caseSensitive, types: {} };
  return compareCodePoints(fold(String(a), options), fold(String(b), options));
}

function asBoolean(value: string | number | boolean): boolean {
  return typeof value === 'string' ? value.toLowerCase() === 'true' : Boolean(value);
}

function fold(text: string, options: Pick<MatchOptions, 'caseSensitive'>): string {
  return options.caseSensitive ? text : text.toLowerCase();
}

/** Orders text by Unicode code point, as SQLite's binary collation and PostgreSQL's "C" do (UTF-16 order would put U+E000 to U+FFFF above the surrogates). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x !== y) return Math.sign(codeUnitRank(x) - codeUnitRank(y));
  }
  return Math.sign(a.length - b.length);
}

const codeUnitRank = (unit: number) => (unit < 0xd800 ? unit : unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);

/** Whole-string match of `text` against a pattern where `*` is any run and `\x` is a literal x. */
function globMatch(text: string, pattern: string): boolean {
  const chars = Array.from(pattern);
  const parts: (string | null)[] = []; // null stands for a star
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '*') parts.push(null);
    else if (chars[i] === '\\' && i + 1 < chars.length) parts.push(chars[++i]!);
    else parts.push(chars[i]!);
  }
  // matched[j]: text[0..i) matches parts[0..j), computed row by row over i.
  let matched = parts.map(() => false);
  matched.unshift(true);
  for (let j = 1; j <= parts.length; j++) matched[j] = parts[j - 1] === null && matched[j - 1]!;
  for (const char of text) {
    const next = [false];
    for (let j = 1; j <= parts.length; j++) {
      next[j] = parts[j - 1] === null ? next[j - 1]! || matched[j]! : parts[j - 1] === char && matched[j - 1]!;
    }
    matched = next;
  }
  return matched[parts.length]!;
}
