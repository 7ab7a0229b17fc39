import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import { invalid } from '../../services/errors.js';
import type { ApiContext } from '../context.js';
import { Presenter } from '../present/entities.js';
import { controlCharacters } from '../input/fields.js';
import type { MediaType } from '../present/representation.js';

const apiRoots = ['/ovirt-engine/api', '/api'];
const presenters = new Map<string, Presenter>();

function presenterFor(base: string): Presenter {
  let presenter = presenters.get(base);
  if (!presenter) presenters.set(base, (presenter = new Presenter(base)));
  return presenter;
}

/** Echoes or creates the Correlation-Id, and keeps unread request bodies from stalling the connection. */
export async function correlation(ctx: ApiContext, next: Next) {
  const given = ctx.get('Correlation-Id');
  ctx.state.correlationId = given && given.length <= 255 ? given : randomUUID();
  ctx.set('Correlation-Id', ctx.state.correlationId);
  ctx.state.media = negotiate(ctx);
  ctx.state.present = presenterFor(apiRoots[0]!);
  const declaresBody = Number(ctx.get('Content-Length') || 0) > 0 || ctx.get('Transfer-Encoding') !== '';
  if (declaresBody && ['GET', 'HEAD', 'DELETE'].includes(ctx.method)) ctx.set('Connection', 'close');
  await next();
}

/** Strips the API prefix (with an optional /v4), checks the requested version, and fixes the base for hrefs. */
export async function apiPrefix(ctx: ApiContext, next: Next) {
  const root = apiRoots.find((candidate) => ctx.path === candidate || ctx.path.startsWith(`${candidate}/`));
  if (!root) return next();
  let rest = ctx.path.slice(root.length);
  let base = root;
  const versioned = /^\/v(\d+)(?=\/|$)/.exec(rest);
  if (versioned) {
    if (versioned[1] !== '4') throw invalid(`API version ${versioned[1]} is not supported; this server speaks version 4`);
    base = `${root}/v4`;
    rest = rest.slice(versioned[0].length);
  }
  const header = ctx.get('Version');
  if (header && header.trim() !== '4') throw invalid(`API version ${header} is not supported; this server speaks version 4`);
  refuseControlCharacters(ctx, rest);
  ctx.state.base = base;
  ctx.state.present = presenterFor(base);
  ctx.path = rest === '' ? '/' : rest.replace(/\/+$/, '') || '/';
  await next();
}

/** `?accept=` wins over the header; the header is weighed by its q-values; XML is the default, also for `*\/*` and for types this API does not serve. */
function negotiate(ctx: ApiContext): MediaType {
  const override = typeof ctx.query.accept === 'string' ? ctx.query.accept : undefined;
  if (override !== undefined) return override.toLowerCase().includes('json') ? 'json' : 'xml';
  return preferredMedia(ctx.get('Accept'));
}

/**
 * Weighs an Accept header by its q-values: JSON only when a JSON type is preferred to every XML type.
 * Parameters other than q (`application/json; charset=utf-8`) are ignored; wildcards count for XML, the default.
 */
function preferredMedia(accept: string): MediaType {
  let json = -1;
  let xml = -1;
  for (const range of accept.split(',')) {
    const [type = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const weight = parameters.find((parameter) => /^q\s*=/.test(parameter));
    const q = weight === undefined ? 1 : Number(weight.replace(/^q\s*=\s*/, ''));
    if (!Number.isFinite(q) || q <= 0) continue;
    if (type === 'application/json' || type.endsWith('+json')) json = Math.max(json, q);
    else if (type === 'application/xml' || type === 'text/xml' || type === '*/*' || type === 'application/*') xml = Math.max(xml, q);
  }
  return json > xml ? 'json' : 'xml';
}

/** Ids and query values reach the database; a NUL in them would fail there (as a 500), so they are refused here. */
function refuseControlCharacters(ctx: ApiContext, rest: string): void {
  let path = rest;
  try {
    path = decodeURIComponent(rest);
  } catch {
    // A malformed escape is left as it is; the router treats it as text, and no id matches it.
  }
  if (controlCharacters.test(path)) throw invalid('the request path contains control characters');
  for (const [name, value] of Object.entries(ctx.query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string' && controlCharacters.test(item)) throw invalid(`query parameter ${name} contains control characters`);
    }
  }
}
