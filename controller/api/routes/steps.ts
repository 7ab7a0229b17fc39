import type { Services } from '../services.js';
import { notFound } from '../../rules/errors.js';
import { resources, type ResourceName } from '../../query/catalog.js';
import { parseFollow } from '../../query/queries.js';
import { checkIfMatch, respond, type ApiContext } from '../context.js';
import { querySingle } from '../input/request.js';
import { presentLoaded } from '../present/graph.js';
import type { Rep } from '../present/representation.js';
import type { RouteStep } from '../routing.js';
import { presentOptions, visibleToOf } from './collections.js';

/**
 * Steps a route of one object declares before its own handler, where it is
 * registered: `router.get('/hosts/:id', followable(services, 'host'), handler)`,
 * `router.put('/vms/:id', ifMatch(services, 'vm'), handler)`. Each either
 * answers the request or passes it on to the next step of its route.
 */

/**
 * Answers a GET of the object whose id is the route's `:id` when the request
 * asks for followed links (`follow`) or all content, with those embedded, as
 * collections do; passes any other request on.
 */
export function followable(services: Services, resource: ResourceName): RouteStep {
  const { element } = resources[resource];
  return async (ctx, next) => {
    if (!ctx.querystring && !ctx.get('All-Content')) return next();
    const followText = querySingle(ctx, 'follow');
    const presentWith = { ...presentOptions(ctx), media: ctx.state.media };
    if (!followText && !presentWith.allContent) return next();
    const id = ctx.params.id!;
    const loaded = await services.queries.load(resource, [id], parseFollow(resource, followText), undefined, visibleToOf(ctx));
    if (!loaded.views.has(id)) throw notFound(element.replace('_', ' '), id);
    respond(ctx, 200, element, presentLoaded(ctx.state.present, loaded, id, presentWith));
  };
}

/**
 * Refuses a change with 412 when the request's If-Match names none of the
 * current tags of the object whose id is the route's parameter `param`, as
 * its own URL presents it (XML or JSON, with or without all content); passes
 * the request on when it names one, or has no If-Match.
 */
export function ifMatch(services: Services, resource: ResourceName, param = 'id'): RouteStep {
  const { element } = resources[resource];
  return ifMatchDocument(element, async (ctx) => {
    const id = ctx.params[param]!;
    const loaded = await services.queries.load(resource, [id]);
    if (!loaded.views.has(id)) throw notFound(element.replace('_', ' '), id);
    return (allContent) => presentLoaded(ctx.state.present, loaded, id, { allContent });
  });
}

/**
 * As ifMatch, for an object whose document at the route's URL is not the one
 * at its own URL: `documentOf` reads the object and gives its document there,
 * with or without all content, under the element `root`.
 */
export function ifMatchDocument(root: string, documentOf: (ctx: ApiContext) => Promise<(allContent: boolean) => Rep>): RouteStep {
  return async (ctx, next) => {
    if (ctx.get('If-Match')) await checkIfMatch(ctx, root, await documentOf(ctx));
    await next();
  };
}
