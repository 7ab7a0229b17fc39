import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import { ServiceError, invalid } from '../../rules/errors.js';
import type { ApiContext } from '../context.js';
import { Presenter } from '../present/entities.js';
import { controlCharacters } from '../input/fields.js';
import { queryEntries, queryValue } from '../input/request.js';
import type { MediaType } from '../present/representation.js';

const apiRoots = ['/ovirt-engine/api', '/api'];
const mediaByAccept = new Map<string, MediaType>();

/** The edge of the API: Correlation-Id, content negotiation, and the API prefix, with one Presenter per prefix. */
export function createEdge(hostSummary?: Presenter['hostSummary'], migrationProgress?: Presenter['migrationProgress']) {
  const presenters = new Map(apiRoots.flatMap((root) => [root, `${root}/v4`]).map((base) => [base, Object.assign(new Presenter(base), { hostSummary, migrationProgress })]));
  const defaultPresenter = presenters.get(apiRoots[0]!)!;

  /** Echoes or creates the Correlation-Id, and keeps unread request bodies from stalling the connection. */
  async function correlation(ctx: ApiContext, next: Next) {
    const asked = queryValue(ctx, 'correlation_id');
    const given = ctx.get('Correlation-Id') || (typeof asked === 'string' ? asked : '');
    ctx.state.correlationId = given && given.length <= 255 ? given : randomUUID();
    ctx.set('Correlation-Id', ctx.state.correlationId);
    ctx.state.media = negotiate(ctx);
    ctx.state.present = defaultPresenter;
    const declaresBody = ctx.get('Transfer-Encoding') !== '' || Number(ctx.get('Content-Length') || 0) > 0;
    if (declaresBody && (ctx.method === 'GET' || ctx.method === 'HEAD' || ctx.method === 'DELETE')) ctx.set('Connection', 'close');
    await next();
  }

  /** Strips the API prefix (with an optional /v4), checks the requested version, and fixes the base for hrefs; ends other paths as not found. */
  async function apiPrefix(ctx: ApiContext, next: Next) {
    const root = apiRoots.find((candidate) => ctx.path === candidate || ctx.path.startsWith(`${candidate}/`));
    if (!root) throw new ServiceError('not_found', 'Not Found', `${ctx.path} is not part of this API; it lives at /ovirt-engine/api`);
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
    ctx.state.present = presenters.get(base)!;
    ctx.path = rest === '' ? '/' : rest.replace(/\/+$/, '') || '/';
    await next();
  }

  return { correlation, apiPrefix };
}

/** `?accept=` wins over the header; the header is weighed by its q-values; XML is the default, also for `*\/*` and for types this API does not serve. */
function negotiate(ctx: ApiContext): MediaType {
  const accepted = queryValue(ctx, 'accept');
  const override = typeof accepted === 'string' ? accepted : undefined;
  if (override !== undefined) return override.toLowerCase().includes('json') ? 'json' : 'xml';
  const accept = ctx.get('Accept');
  let media = mediaByAccept.get(accept);
  if (media === undefined) {
    media = preferredMedia(accept);
    if (mediaByAccept.size >= 256) mediaByAccept.clear();
    mediaByAccept.set(accept, media);
  }
  return media;
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
  for (const [name, value] of queryEntries(ctx)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string' && controlCharacters.test(item)) throw invalid(`query parameter ${name} contains control characters`);
    }
  }
}
