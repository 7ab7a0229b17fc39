import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { ApiState } from './context.js';

/** One step of a route: a check that answers or calls the next step (see routes/steps.ts), or the handler that answers. */
export type RouteStep = Parameters<Router<ApiState>['get']>[1];

type Method = 'get' | 'post' | 'put' | 'delete';

/** Makes the first steps of each route, from its method and path: see api/permits.ts and api/audit.ts. */
export type RouteGuard = (method: Method, path: string) => RouteStep[];

/**
 * The API's routes, kept in one @koa/router per collection (the first path
 * segment), so that a request is matched only against its collection's
 * routes instead of every route of the API. Each route declares all its
 * steps where it is registered, and no two routes of a method may match the
 * same path (registering one that would is an error), so that what answers a
 * request never depends on the order in which routes were registered.
 */
export class ApiRouter {
  private readonly routers = new Map<string, Router<ApiState>>();
  private readonly dispatchers = new Map<string, Middleware<ApiState>>();
  private readonly registered: { method: Method; path: string }[] = [];

  /** With a guard, every route's first steps are those the guard makes for it. */
  constructor(private readonly guard?: RouteGuard) {}

  get(path: string, ...steps: RouteStep[]): void {
    this.register('get', path, steps);
  }

  post(path: string, ...steps: RouteStep[]): void {
    this.register('post', path, steps);
  }

  put(path: string, ...steps: RouteStep[]): void {
    this.register('put', path, steps);
  }

  delete(path: string, ...steps: RouteStep[]): void {
    this.register('delete', path, steps);
  }

  /** The routes, by method and path pattern (`/vms/:id`), in the order they were registered. */
  declared(): readonly { method: Method; path: string }[] {
    return this.registered;
  }

  /** The middleware that hands each request to its collection's routes. */
  routes(): Middleware<ApiState> {
    return (ctx, next) => {
      const dispatch = this.dispatchers.get(segmentOf(ctx.path));
      return dispatch ? dispatch(ctx, next) : next();
    };
  }

  /** The methods the routes accept on a path, for a 405 answer. */
  allowedMethods(path: string): string[] {
    const router = this.routers.get(segmentOf(path));
    const methods = new Set<string>();
    for (const layer of router?.match(path, 'GET').path ?? []) for (const method of layer.methods) methods.add(method);
    return [...methods];
  }

  private register(method: Method, path: string, steps: RouteStep[]): void {
    const clash = this.registered.find((route) => route.method === method && overlap(route.path, path));
    if (clash) throw new Error(`${method.toUpperCase()} ${path} would match the paths of ${method.toUpperCase()} ${clash.path}; which one answers must not depend on the order of registration`);
    const guarded = this.guard ? [...this.guard(method, path), ...steps] : steps;
    this.registered.push({ method, path });
    this.routerFor(path)[method](path, ...guarded);
  }

  private routerFor(path: string): Router<ApiState> {
    const segment = segmentOf(path);
    let router = this.routers.get(segment);
    if (!router) {
      router = new Router<ApiState>();
      this.routers.set(segment, router);
      this.dispatchers.set(segment, router.routes() as Middleware<ApiState>);
    }
    return router;
  }
}

function segmentOf(path: string): string {
  const end = path.indexOf('/', 1);
  return end < 0 ? path.slice(1) : path.slice(1, end);
}

/** Whether two path patterns of plain segments and `:parameters` match some path alike. */
function overlap(a: string, b: string): boolean {
  const left = a.split('/');
  const right = b.split('/');
  return left.length === right.length && left.every((segment, index) => segment === right[index] || segment.startsWith(':') || right[index]!.startsWith(':'));
}
