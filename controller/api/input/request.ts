import { invalid } from '../../rules/errors.js';
import type { ApiContext } from '../context.js';
import { bodyMediaOf, parseDocument, readBody, type Doc } from './body.js';
import { Fields } from './fields.js';
import { refuseUnimplemented, type FieldTable } from './vm-fields.js';

/** The request's body, read once and kept for the steps after the one that read it. */
export async function bodyOf(ctx: ApiContext): Promise<Buffer> {
  ctx.state.body ??= await readBody(ctx.req);
  return ctx.state.body;
}

/** Reads the request's document; with `accepted`, a document with fields outside that table is refused (see refuseUnimplemented). */
export async function documentOf(ctx: ApiContext, root: string, accepted?: FieldTable): Promise<Fields> {
  const raw = await bodyOf(ctx);
  const document = parseDocument(raw, ctx.get('Content-Type'), root);
  if (accepted) refuseUnimplemented(document, accepted, root);
  return new Fields(document, root, bodyMediaOf(raw.toString('utf8'), ctx.get('Content-Type')));
}

/** Reads an optional body, for actions whose document may be omitted. */
export async function optionalDocumentOf(ctx: ApiContext, root: string, accepted?: FieldTable): Promise<Fields> {
  const raw = await bodyOf(ctx);
  if (!raw.toString('utf8').trim()) return new Fields({} as Doc, root);
  const document = parseDocument(raw, ctx.get('Content-Type'), root);
  if (accepted) refuseUnimplemented(document, accepted, root);
  return new Fields(document, root, bodyMediaOf(raw.toString('utf8'), ctx.get('Content-Type')));
}

/**
 * The request's query parameters are read only through these functions, which
 * find a parameter only when the request names it: never one of an object's
 * prototype names (`constructor`, `toString`, `__proto__`).
 */

/** A query parameter's value (a list when it is given more than once), or undefined when the request does not name it. */
export function queryValue(ctx: ApiContext, name: string): string | string[] | undefined {
  const query = ctx.query;
  return Object.hasOwn(query, name) ? query[name] : undefined;
}

/** A query parameter given at most once: its value, or undefined; a 400 when it is given more than once. */
export function querySingle(ctx: ApiContext, name: string): string | undefined {
  const value = queryValue(ctx, name);
  if (Array.isArray(value)) throw invalid(`query parameter ${name} is given more than once`);
  return value;
}

/** The request's query parameters, name and value(s), in the order the request gives them. */
export function queryEntries(ctx: ApiContext): [string, string | string[]][] {
  return Object.entries(ctx.query).flatMap(([name, value]) => (value === undefined ? [] : [[name, value] as [string, string | string[]]]));
}

export function queryFlag(ctx: ApiContext, name: string): boolean | undefined {
  const value = queryValue(ctx, name);
  if (value === undefined) return undefined;
  if (value === 'true' || value === '') return true;
  if (value === 'false') return false;
  throw invalid(`query parameter ${name} must be true or false`);
}

export function queryInteger(ctx: ApiContext, name: string, min: number, max: number): number | undefined {
  const value = queryValue(ctx, name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw invalid(`query parameter ${name} must be a whole number`);
  const number = Number(value);
  if (number < min || number > max) throw invalid(`query parameter ${name} must be between ${min} and ${max}`);
  return number;
}
