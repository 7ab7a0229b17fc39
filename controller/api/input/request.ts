import { invalid } from '../../rules/errors.js';
import type { ApiContext } from '../context.js';
import { parseDocument, readBody, type Doc } from './body.js';
import { Fields } from './fields.js';

export async function documentOf(ctx: ApiContext, root: string): Promise<Fields> {
  const raw = await readBody(ctx.req);
  return new Fields(parseDocument(raw, ctx.get('Content-Type'), root), root);
}

/** Reads an optional body, for actions whose document may be omitted. */
export async function optionalDocumentOf(ctx: ApiContext, root: string): Promise<Fields> {
  const raw = await readBody(ctx.req);
  if (!raw.toString('utf8').trim()) return new Fields({} as Doc, root);
  return new Fields(parseDocument(raw, ctx.get('Content-Type'), root), root);
}

export function queryFlag(ctx: ApiContext, name: string): boolean | undefined {
  const value = ctx.query[name];
  if (value === undefined) return undefined;
  if (value === 'true' || value === '') return true;
  if (value === 'false') return false;
  throw invalid(`query parameter ${name} must be true or false`);
}

export function queryInteger(ctx: ApiContext, name: string, min: number, max: number): number | undefined {
  const value = ctx.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) throw invalid(`query parameter ${name} must be a whole number`);
  const number = Number(value);
  if (number < min || number > max) throw invalid(`query parameter ${name} must be between ${min} and ${max}`);
  return number;
}
