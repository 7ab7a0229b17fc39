import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { ApiState } from './context.js';

type Handler = Parameters<Router<ApiState>['get']>[1];

/**
 * The API's routes, kept in one @koa/router per collection (the first path
 * segment), so that a request is matched only against its collection's
 * routes instead of every route of the API.
 */
export class ApiRouter {
  private readonly routers = new Map<string, Router<ApiState>>();
  private readonly dispatchers = new Map<string, Middleware<ApiState>>();

  get(path: string, handler: Handler): void {
    this.routerFor(path).get(path, handler);
  }

  post(path: string, handler: Handler): void {
    this.routerFor(path).post(path, handler);
  }

  put(path: string, handler: Handler): void {
    this.routerFor(path).put(path, handler);
  }

  delete(path: string, handler: Handler): void {
    this.routerFor(path).delete(path, handler);
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
