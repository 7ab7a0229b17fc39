import type { Services } from '../services.js';
import { invalid, notFound } from '../../rules/errors.js';
import { resources, type ResourceName } from '../../query/catalog.js';
import { parseFollow, type ListRequest } from '../../query/queries.js';
import { subCollections, topLevel, topLevelScopes } from '../collections.js';
import type { ApiRouter } from '../routing.js';
import { respondList, type ApiContext } from '../context.js';
import { knownParts, presentObject, type PresentOptions } from '../present/graph.js';
import { queryEntries, queryFlag, querySingle } from '../input/request.js';

/** Query parameters that are options of a request, not attribute filters. */
const options = new Set(['search', 'max', 'follow', 'accept', 'all_content', 'case_sensitive', 'async', 'clone', 'detach_only', 'wait', 'filter', 'from', 'correlation_id']);

/** The largest page a client can ask for with `max`; -1 asks for everything. */
export const maxPageSize = 1_000_000_000;

export function presentOptions(ctx: ApiContext): PresentOptions {
  const header = ctx.get('All-Content');
  return { allContent: queryFlag(ctx, 'all_content') ?? (header ? header.trim().toLowerCase() === 'true' : false) };
}

function listRequest(ctx: ApiContext): ListRequest {
  const maxText = querySingle(ctx, 'max');
  let max: number | undefined;
  if (maxText !== undefined) {
    if (!/^-?\d+$/.test(maxText)) throw invalid(`query parameter max must be a whole number, not "${maxText}"`);
    max = Number(maxText);
    if (max < -1 || max > maxPageSize) throw invalid(`query parameter max must be between -1 (no limit) and ${maxPageSize}`);
    if (max === -1) max = undefined;
  }
  const filters = new Map<string, string>();
  for (const [name, value] of queryEntries(ctx)) {
    if (options.has(name)) continue;
    if (Array.isArray(value)) throw invalid(`query parameter ${name} is given more than once`);
    filters.set(name, value);
  }
  return { search: querySingle(ctx, 'search'), filters, max, caseSensitive: queryFlag(ctx, 'case_sensitive') ?? false };
}

/** The user a request's reads are limited to, when they are filtered (see api/permits.ts). */
export function visibleToOf(ctx: ApiContext): string | undefined {
  return ctx.state.filtered ? ctx.state.principal!.userId : undefined;
}

/** Answers a collection request: one page of the resource's objects matching the search and filters, with the followed links embedded. */
export async function respondCollection(ctx: ApiContext, services: Services, resource: ResourceName, scope?: ListRequest['scope']): Promise<void> {
  const definition = resources[resource];
  const follow = parseFollow(resource, querySingle(ctx, 'follow'));
  const visibleTo = visibleToOf(ctx);
  const request = { ...listRequest(ctx), scope, visibleTo };
  const page = await services.queries.list(definition, request);
  const loaded = await services.queries.load(resource, page.ids, follow, knownParts(ctx.state.present, ctx.state.media), visibleTo);
  ctx.set('X-Total-Count', String(page.total));
  if (page.max !== undefined && page.page * page.max < page.total) {
    const next = new URLSearchParams(ctx.querystring);
    const search = (request.search ?? '').replace(/\s+page\s+\d+\s*$/i, '');
    next.set('search', `${search} page ${page.page + 1}`.trim());
    ctx.set('Link', `<${ctx.state.base}${ctx.path}?${next.toString()}>; rel="next"`);
  }
  const presentWith = { ...presentOptions(ctx), media: ctx.state.media };
  respondList(ctx, definition.collection, definition.element, loaded.ids.map((id) => presentObject(ctx.state.present, loaded, id, presentWith)));
}

/** Registers GET for every top-level collection and every collection below an object. */
export function collectionRoutes(router: ApiRouter, services: Services): void {
  for (const [segment, resource] of topLevel) {
    const scope = topLevelScopes.get(segment);
    router.get(`/${segment}`, (ctx) => respondCollection(ctx, services, resource, scope ? { text: scope, params: [] } : undefined));
  }
  for (const collection of subCollections) {
    router.get(`/${collection.owner}/:id/${collection.rel}`, async (ctx) => {
      const owner = topLevel.get(collection.owner)!;
      const found = await services.queries.load(owner, [ctx.params.id!]);
      if (!found.views.has(ctx.params.id!)) throw notFound(resources[owner].element.replace('_', ' '), ctx.params.id!);
      await respondCollection(ctx, services, collection.target, { text: collection.scope, params: [ctx.params.id!] });
    });
  }
}
